from capacity.cli import main

raise SystemExit(main())
