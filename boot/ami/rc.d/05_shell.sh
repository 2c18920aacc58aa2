#!/bin/bash
# Run the user data "shell0" command(s), before every other rc.d script.
# The lava worker template puts root.boot0.sh here.
"${LAVA_BOOT_ROOT:-}/usr/local/sbin/userdata-shell" shell0
