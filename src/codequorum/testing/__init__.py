"""Running visible tests against candidates, inside the sandbox."""
