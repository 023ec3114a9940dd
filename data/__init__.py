"""The data files read at run time (the risk policy, the JSON schemas, the bundled samples),
installed inside the package as `cbm.data`."""
