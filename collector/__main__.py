from collector._cli import main

raise SystemExit(main())
