#!/bin/bash
# Run the user data "shell" command(s), after every other rc.d script.
# The lava worker template puts root.boot.sh here.
"${LAVA_BOOT_ROOT:-}/usr/local/sbin/userdata-shell" shell
