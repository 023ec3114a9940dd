"""The shipped checkpoint (`default/`), installed inside the package as `cbm.checkpoints`; see
`cbm.options.shipped_checkpoint`. Checkpoints of your own can live here too: only `default/` ships."""
