from incidentctl.entry import main

raise SystemExit(main())
