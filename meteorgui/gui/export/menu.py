"""The export parts of the main window: the Export menu, the Export… actions, the progress
dock, a status-bar line, and the names of the browser's export badges and filter (the
badges themselves follow the hub's notify.Exported messages)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from ...exporter import rules as RS
from ...exporter.rules import Rule
from ..common import style
from ..common.text import escape, plain_tip
from .dialog import ExportDialog, Scope
from .folder import FolderExportDialog
from .meteors import MeteorExportDialog
from .rules import RulesDialog, when
from .service import ExportService
from .targets import TargetsDialog
from .view import ExportProgressView


class ExportUi(QObject):
    def __init__(self, ctx, service: ExportService, window):
        super().__init__(window)
        self.ctx = ctx
        self.service = service
        self.window = window
        self.browser = window.browser
        self.targets_dialog: TargetsDialog | None = None
        self.rules_dialog: RulesDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.folder_dialog: FolderExportDialog | None = None
        self.meteors_dialog: MeteorExportDialog | None = None
        self._rules: dict[int, Rule] = {}
        self._sending: dict[str, str] = {}  # target id -> what the status line says

        self.view = ExportProgressView(ctx, service, window)
        self.view.model.camera_name = lambda cid: self.browser.model.camera_names.get(cid)
        self.dock = window._dock(
            "Export", self.view, "export", Qt.DockWidgetArea.BottomDockWidgetArea
        )
        window.tabifyDockWidget(window.log_dock, self.dock)
        window.monitor_dock.raise_()

        # The actions and the menu are the window's, from its first paint (main_window):
        # here they are named for this part's callers.
        self.act_export = window.act_export
        self.act_folder = window.act_export_folder
        self.act_meteors = window.act_export_meteors
        self.act_targets = window.act_export_targets
        self.act_rules = window.act_export_rules
        self.act_progress = window.act_export_progress
        self.menu = window.export_menu

        self.status = QLabel(window)
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.linkActivated.connect(self._status_link)
        self.status.setVisible(False)
        window.statusBar().addPermanentWidget(self.status)

        service.targetsChanged.connect(self._targets)
        service.leftoversFound.connect(lambda _found: self.show_progress())
        service.ruleChanged.connect(self._rule)
        service.ruleRemoved.connect(self._rule_removed)
        service.progress.connect(self._progress)
        service.roundRunning.connect(self._round_running)
        service.run(service.exporter.rules.list, self._rules_loaded, owner=self)

    # ------------------------------------------------------------------ actions

    def show_progress(self, target_id: str | None = None) -> None:
        self.dock.show()
        self.dock.raise_()
        if target_id is not None:
            self.view.show_target(target_id)

    def export_selected(self) -> None:
        dlg = ExportDialog(
            self.service, Scope.of(self.browser), self.window, target_id=self.view.target_id
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.started.connect(self.show_progress)
        dlg.manageTargets.connect(self.show_targets)
        self.export_dialog = dlg
        dlg.open()

    def export_to_folder(self) -> None:
        self.folder_dialog = self._scope_dialog("Export to folder", FolderExportDialog)

    def export_meteors(self) -> None:
        self.meteors_dialog = self._scope_dialog("Export meteors", MeteorExportDialog)

    def _scope_dialog(self, title: str, cls):
        """Open a dialog exporting the browser's selection, or say there is none."""
        scope = Scope.of(self.browser)
        if not scope.has_selection and scope.query is None:
            QMessageBox.information(self.window, title, "Select the events to export first.")
            return None
        dlg = cls(self.ctx, scope, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        return dlg

    def show_targets(self) -> None:
        if self.targets_dialog is not None and self.targets_dialog.isVisible():
            self.targets_dialog.raise_()
            self.targets_dialog.activateWindow()
            return
        dlg = TargetsDialog(self.service, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.destroyed.connect(lambda *_: setattr(self, "targets_dialog", None))
        self.targets_dialog = dlg
        dlg.open()

    def show_rules(self) -> None:
        if self.rules_dialog is not None and self.rules_dialog.isVisible():
            self.rules_dialog.raise_()
            self.rules_dialog.activateWindow()
            return
        dlg = RulesDialog(self.service, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.destroyed.connect(lambda *_: setattr(self, "rules_dialog", None))
        self.rules_dialog = dlg
        dlg.open()

    # ------------------------------------------------------------------ news

    def _targets(self, targets) -> None:
        self.browser.set_export_targets([(t.target_id, t.name) for t in targets])
        self._show_status()

    def _rules_loaded(self, rules: list[Rule]) -> None:
        self._rules = {r.rule_id: r for r in rules}
        self._show_status()

    def _rule(self, rule: Rule) -> None:
        self._rules[rule.rule_id] = rule
        self._show_status()

    def _rule_removed(self, rule_id: int) -> None:
        if self._rules.pop(rule_id, None) is not None:
            self._show_status()

    def _progress(self, event) -> None:
        from ...exporter import runner as R

        if event.kind in (R.ROUND_STARTED, R.ITEM_DONE):
            target = self.service.target(event.target_id)
            name = target.name if target else "a target"
            self._sending[event.target_id] = f"Exporting to {name}: {event.remaining:,} left"
            self._show_status()

    def _round_running(self, target_id: str, running: bool) -> None:
        if not running:
            self._sending.pop(target_id, None)
        self._show_status()

    def _show_status(self) -> None:
        parts = [f"<a href='progress'>{text}</a>" for text in self._sending.values()]
        tips: list[str] = []
        failing = [r for r in self._rules.values() if r.enabled and r.state == RS.BACKING_OFF]
        for rule in failing:
            nxt = f"; next attempt {when(rule.next_attempt_at)}" if rule.next_attempt_at else ""
            parts.append(
                f"<a href='rules' style='color:{style.ERROR}'>⚠ Scheduled export "
                f"'{escape(rule.name)}' failing{nxt}</a>"
            )
            tips.append(f"{rule.name}: {rule.last_error or 'failed'}")
        self.status.setText("  ·  ".join(parts))
        self.status.setToolTip(plain_tip("\n".join(tips)))
        self.status.setVisible(bool(parts))

    def _status_link(self, link: str) -> None:
        if link == "rules":
            self.show_rules()
        else:
            self.show_progress()


def install(ctx, window):
    """Create the export service and its parts of the main window."""
    service = ExportService(ctx)
    ctx.export = service
    ui = ExportUi(ctx, service, window)
    service.reload_targets()
    service.check_leftovers()
    return ui
