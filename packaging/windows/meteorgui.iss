; Inno Setup script for meteorgui on Windows (Inno Setup 6).
;
; Build the program first, on Windows, from a checkout:
;   py -3.12 -m venv build\win-venv
;   build\win-venv\Scripts\pip install pyinstaller .
;   build\win-venv\Scripts\python packaging\render_icons.py resources\icons\meteorgui.svg packaging\windows\meteorgui.ico
;   build\win-venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\pyinstaller\meteorgui.spec
; then the installer (the version must be the one in pyproject.toml):
;   iscc /DAppVersion=0.1.0 packaging\windows\meteorgui.iss
; which writes packaging\windows\Output\meteorgui-<version>-setup.exe.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\meteorgui.iss
#endif

[Setup]
AppId={{6F0D2B3C-8A51-4C55-9E0B-4D3B0F7A2E61}
AppName=meteorgui
AppVersion={#AppVersion}
AppPublisher=meteorgui developers
DefaultDirName={autopf}\meteorgui
DefaultGroupName=meteorgui
DisableProgramGroupPage=yes
; Per-user install without administrator rights unless the user asks for all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=meteorgui-{#AppVersion}-setup
SetupIconFile=meteorgui.ico
UninstallDisplayIcon={app}\meteorgui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "firewall"; Description: "Let cameras on this network reach the importer (Windows Firewall rule for meteorgui)"; Flags: unchecked

[Files]
; The whole one-folder build from PyInstaller.
Source: "..\..\dist\meteorgui\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\meteorgui"; Filename: "{app}\meteorgui.exe"
Name: "{group}\meteorgui demo"; Filename: "{app}\meteorgui.exe"; Parameters: "--demo"
Name: "{autodesktop}\meteorgui"; Filename: "{app}\meteorgui.exe"; Tasks: desktopicon

[Run]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall add rule name=""meteorgui importer"" dir=in action=allow program=""{app}\meteorgui.exe"" enable=yes"; Flags: runhidden; Tasks: firewall; Check: IsAdminInstallMode
Filename: "{app}\meteorgui.exe"; Description: "{cm:LaunchProgram,meteorgui}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; Parameters: "advfirewall firewall delete rule name=""meteorgui importer"""; Flags: runhidden; RunOnceId: "DelFirewallRule"; Check: IsAdminInstallMode

; The archive and settings stay in the user's folders (%LOCALAPPDATA%\meteorgui):
; uninstalling never deletes a night's data.
