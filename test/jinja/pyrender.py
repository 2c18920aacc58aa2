"""Renders a batch of Jinja2 templates the way lava does, for differential tests.

stdin: {"cases": [{"template": str, "context": <encoded>, "autoescape": bool}]}
stdout: {"results": [{"ok": str} | {"error": type name, "message": str}]}
Encoded values: {"$dt": [y,m,d,H,M,S,us], "tz": null|"UTC"|"local"|zone}, {"$date": [y,m,d]},
{"$td": [days, seconds, us]}, {"$tuple": [...]}, {"$float": x}, {"$decimal": "text"}, {"$utils": true};
other objects are dicts.
"""
import datetime
import decimal
import json
import os.path
import re
import sys
from uuid import uuid4

import dateutil
import dateutil.parser
import dateutil.relativedelta
import dateutil.tz
import jinja2


def s3_split(s):
    for p in 's3://', 's3:':
        if s.startswith(p):
            s = s[len(p):]
            break
    t = s.strip('/').split('/', 1)
    if not t[0]:
        raise ValueError(f'Invalid S3 object name: {s}')
    return t[0], t[1].strip('/') if len(t) > 1 else ''


UTILS = {
    'timedelta': datetime.timedelta,
    'datetime': datetime.datetime,
    'date': datetime.date,
    'dateutil': dateutil,
    'time': datetime.time,
    'parsedate': dateutil.parser,
    's3bucket': lambda s: s3_split(s)[0],
    's3key': lambda s: s3_split(s)[1],
    'uuid': uuid4,
    'path': os.path,
    're': re,
}


def zone(tz):
    if tz is None:
        return None
    if tz == 'UTC':
        return datetime.timezone.utc
    if tz == 'local':
        return dateutil.tz.tzlocal()
    return dateutil.tz.gettz(tz)


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if '$dt' in v:
            return datetime.datetime(*v['$dt'], tzinfo=zone(v.get('tz')))
        if '$date' in v:
            return datetime.date(*v['$date'])
        if '$td' in v:
            return datetime.timedelta(*v['$td'])
        if '$tuple' in v:
            return tuple(decode(x) for x in v['$tuple'])
        if '$float' in v:
            return float(v['$float'])
        if '$decimal' in v:
            return decimal.Decimal(v['$decimal'])
        if '$utils' in v:
            return UTILS
        return {k: decode(x) for k, x in v.items()}
    return v


def render(case):
    try:
        ctx = decode(case.get('context', {}))
        if case.get('autoescape'):
            env = jinja2.Environment(autoescape=True)
            tpl = env.from_string(case['template'])
        else:
            tpl = jinja2.Template(case['template'])
        return {'ok': tpl.render(**ctx)}
    except Exception as e:  # noqa: BLE001 - every failure is a result to compare
        return {'error': type(e).__name__, 'message': str(e)}


def main():
    data = json.load(sys.stdin)
    json.dump({'results': [render(c) for c in data['cases']]}, sys.stdout)


if __name__ == '__main__':
    main()
