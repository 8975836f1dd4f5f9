from meteorgui.cli import main

raise SystemExit(main())
