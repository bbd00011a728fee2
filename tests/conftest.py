# The fixture projects carry tests of their own, failing on purpose (`codequorum fix` repairs
# them in the sandbox): they are data, not part of this suite.
collect_ignore = ["fixtures"]
