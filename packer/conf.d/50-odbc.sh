#!/bin/bash
# Register FreeTDS with unixODBC so MSSQL connections can use the "FreeTDS" driver name.
DRIVER=$(ls /usr/lib64/libtdsodbc.so* 2>/dev/null | head -1)
if [ -z "$DRIVER" ]; then
    echo "FreeTDS ODBC driver not found" >&2
    exit 1
fi
cat > /tmp/freetds.ini <<INI
[FreeTDS]
Description = FreeTDS driver for MSSQL
Driver = $DRIVER
INI
odbcinst -i -d -f /tmp/freetds.ini
rm -f /tmp/freetds.ini
