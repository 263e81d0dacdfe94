"""Pure classification rules: functions of parsed mail and rule data, no I/O."""
