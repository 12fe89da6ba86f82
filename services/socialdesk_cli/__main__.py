from socialdesk_cli import main

raise SystemExit(main())
