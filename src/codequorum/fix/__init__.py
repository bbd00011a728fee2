"""`codequorum fix`: repair the code that failing tests point at, with the ensemble.

One concept per module: `locate` (where the failure points), `project` (copies of the project
and the sandboxed test command), `environment` (the project's interpreter inside the sandbox),
`candidates` (the FIX request and splicing answers back in), `diff`, `choose` (ranking the
attempts), `apply` (atomic replacement with a backup), `service` (the whole operation, for the
CLI and the language server alike). See docs/fix.md.
"""
