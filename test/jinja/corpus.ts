/**
 * Differential corpus: hand-written cases by area plus generated cross products. Every case is
 * rendered by Python's Jinja2 and by ours with LAVA_CONTEXT.
 */

export const SYNTAX: string[] = [
  "plain text",
  "trailing newline\n",
  "two trailing\n\n",
  "crlf\r\nline\r\n",
  "{# comment #}x",
  "a {#- c -#} b",
  "a   {{- 1 -}}   b",
  "a\n  {%- if true %}\nyes{% endif -%}\n  z",
  "{% raw %}{{ not rendered }}{% endraw %}",
  "a {%- raw -%} {{ x }} {%- endraw -%} b",
  "{{ 'a' 'b' }}",
  "{{ \"dq\\n\" ~ 'sq\\t' }}",
  "{{ '\\x41\\u00e9' }}",
  "{% set x = 1 %}{{ x }}",
  "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
  "{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]",
  "{% set x | upper %}shout{% endset %}{{ x }}",
  "{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}",
  "{% if none %}a{% else %}b{% endif %}",
  "{% for i in items %}{{ i }}{% if not loop.last %},{% endif %}{% endfor %}",
  "{% for i in items %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.length }};{% endfor %}",
  "{% for i in empty %}x{% else %}empty{% endfor %}",
  "{% for i in items if i > 1 %}{{ i }}{{ loop.length }}{% endfor %}",
  "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
  "{% for k in d %}{{ k }}{% endfor %}",
  "{% for a, (b, c) in [(1, (2, 3))] %}{{ a }}{{ b }}{{ c }}{% endfor %}",
  "{% for c in 'abc' %}{{ loop.cycle('x', 'y') }}{{ c }}{% endfor %}",
  "{% for i in [1,1,2] %}{% if loop.changed(i) %}{{ i }}{% endif %}{% endfor %}",
  "{% for i in items %}{{ loop.previtem }}|{{ loop.nextitem }};{% endfor %}",
  "{% for row in [[1,2],[3]] %}{% for c in row %}{{ loop.depth }}{{ c }}{% endfor %}{% endfor %}",
  "{% for x in [1,[2,[3]]] recursive %}{% if x is iterable %}{{ loop(x) }}{% else %}{{ x }}@{{ loop.depth }} {% endif %}{% endfor %}",
  "{% set count = 0 %}{% for i in items %}{% set count = count + i %}{{ count }}{% endfor %}|{{ count }}",
  "{% set ns = namespace(total=0) %}{% for i in items %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}",
  "{% macro hello(name, greeting='Hi') %}{{ greeting }} {{ name }}!{% endmacro %}{{ hello('bob') }} {{ hello('amy', greeting='Yo') }}",
  "{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}",
  "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}",
  "{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}",
  "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) each([1,2]) %}[{{ v }}]{% endcall %}",
  "{% filter upper %}hello {{ 'there' }}{% endfilter %}",
  "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}",
  "{% block b %}in block{% endblock %}",
  "{{ 1 if true else 2 }} {{ 1 if false else 2 }} [{{ 1 if false }}]",
  "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 1 != 2 }}",
  "{{ 'a' in 'cat' }} {{ 2 in items }} {{ 'b' in d }} {{ 5 not in items }}",
  "{{ true and 'x' }} {{ 0 or 'y' }} {{ not 0 }} {{ none or [] }}",
  "{{ items[0] }} {{ items[-1] }} {{ items[5] }} {{ items[1:] }} {{ items[::-1] }} {{ 'hello'[1:4] }} {{ 'hello'[::2] }}",
  "{{ d.a }} {{ d['b'] }} {{ d.zz }} {{ t[1] }} {{ t.1 }}",
  "{{ users[0].name }} {{ users[1]['age'] }}",
  "{{ (1, 2) }} {{ (1,) }} {{ () }} {{ [] }} {{ {} }} {{ {'a': [1, {'b': None}]} }}",
  "{{ 1, 2 }}",
  "{{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ -items|length }}",
  "{{ 'x' ~ 1 ~ none ~ true }}",
  "{{ dict(a=1, b='x') }}",
  "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5)[2] }} {{ range(3) }}",
  "{% for i in range(3) %}{{ i }}{% endfor %}",
  "{{ missing }}|{{ missing|default('dflt') }}|{{ d.missing|default('x') }}|{{ missing is defined }}|{{ d.zz is undefined }}",
  "{% if missing %}y{% else %}n{% endif %}{% for x in missing %}{{ x }}{% endfor %}",
  "{{ missing ~ 'a' }}|{{ missing|upper }}|{{ missing|length }}|{{ missing|list }}",
  "{{ none is none }} {{ 1 is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ 'a' is string }}",
  "{{ d is mapping }} {{ items is sequence }} {{ 'x' is sequence }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }}",
  "{{ items is iterable }} {{ 5 is iterable }} {{ utils.uuid is callable }} {{ 'abc' is lower }} {{ 'ABC' is upper }}",
  "{{ 2 is in items }} {{ 1 is eq 1 }} {{ 1 is ne 1 }} {{ 1 is lt 2 }} {{ 2 is ge 2 }} {{ 1 is sameas 1 }} {{ none is sameas none }}",
  "{{ 'upper' is filter }} {{ 'odd' is test }} {{ 'nope' is filter }}",
  "{{ html }}",
  "{{ html|e }}",
  "{{ html|safe }}",
  "{% autoescape true %}{{ html }}{% endautoescape %}",
  "{{ cycler }}",
  "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}",
  "{% set j = joiner('|') %}{% for i in items %}{{ j() }}{{ i }}{% endfor %}",
  "{{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1.5e3 }} {{ 1e-7 }}",
];

export const AUTOESCAPED: string[] = [
  "{{ html }}",
  "{{ html|safe }}",
  "{{ '<a>' ~ html }}",
  "{{ html|e|e }}",
  "{% set x %}<p>{{ html }}</p>{% endset %}{{ x }}",
  "{{ items|join('<br>') }}",
  "{{ ['<a>', '<b>']|join(', ') }}",
  "{% macro m() %}<i>{{ html }}</i>{% endmacro %}{{ m() }}",
  "{{ d|tojson }}",
  "{{ '%s' % html }}",
  "{{ html|replace('&', 'and') }}",
  "{{ none }}{{ 1.0 }}{{ true }}",
  "{% autoescape false %}{{ html }}{% endautoescape %}",
];

export const PRINTING: string[] = [
  "{{ none }} {{ true }} {{ false }} {{ 1 }} {{ -1 }} {{ 1.0 }} {{ -0.0 }} {{ 1.5 }} {{ 100.0 }}",
  "{{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.23e-10 }} {{ 2 ** 64 }}",
  "{{ globals.one }} {{ globals.f }} {{ globals.n }}",
  "{{ [1, 'a', none, true, 1.0, [2], (3,)] }}",
  "{{ {'k': 'v', 'n': none, 'f': 0.5} }}",
  "{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"', 'nl\\n', 'tab\\t', 'back\\\\'] }}",
  "{{ ['é', '\\x00', '\\x7f', '\\u200b', '日本'] }}",
  "{{ t }} {{ d }} {{ users[0] }}",
  "{{ globals }}",
  "{{ state }}",
  "{{ state.lines }}",
  "{{ d.keys() }} {{ d.values() }} {{ d.items() }}",
  "{{ d.keys()|list }} {{ d.items()|list }}",
  "{{ day }} {{ dt }} {{ td }} {{ start }} {{ ustart }}",
  "{{ [day, dt] }}",
  "{{ [td] }}",
  "{{ {'when': start} }}",
  "{{ utils.time(13, 5) }} {{ utils.time(1, 2, 3, 4) }} {{ [utils.time(13, 5)] }}",
  "{{ utils.timedelta(0) }} {{ utils.timedelta(seconds=-1) }} {{ utils.timedelta(days=-3, hours=5) }} {{ utils.timedelta(microseconds=5) }}",
  "{{ [utils.timedelta(days=2)] }} {{ [utils.timedelta(0)] }}",
  "{{ utils.dateutil.relativedelta.relativedelta(months=6) }} {{ utils.dateutil.relativedelta.relativedelta(days=-3, hours=25) }}",
  "{{ utils.dateutil.relativedelta.relativedelta(year=2020, months=+1, weekday=utils.dateutil.relativedelta.FR(-1)) }}",
  "{{ utils.re.compile('a+') }} {{ utils.re.search('b+', 'abbbc') }}",
  "{{ start.tzinfo }} {{ ustart.tzinfo }} {{ utils.parsedate.parse('2024-01-01T00:00:00Z').tzinfo }} {{ utils.parsedate.isoparse('2024-01-01T00:00:00+05:30').tzinfo }}",
  "{{ range(0, 10, 2) }}",
];

export const STRINGS: string[] = [
  "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}",
  "{{ 'a,b,,c'.split(',') }} {{ ' a  b c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b '.rsplit() }}",
  "{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'AbC'.swapcase() }}",
  "{{ \"they're bill's\".title() }} {{ 'hello2world x1y'.title() }}",
  "{{ 'aaa'.replace('a', 'b') }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'abc'.replace('', '-') }}",
  "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.startswith('l', 2) }}",
  "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.index('e') }} {{ 'hello'.count('l') }} {{ 'hello'.count('') }}",
  "{{ '-'.join(['a', 'b']) }} {{ ''.join('xyz') }}",
  "{{ '{} and {}'.format(1, 'b') }} {{ '{1}{0}'.format('a', 'b') }} {{ '{x}-{y}'.format(x=1, y=2) }} {{ '{{}}{}'.format(5) }}",
  "{{ '{:5}|{:<5}|{:>5}|{:^5}|{:*^7}'.format('ab', 'ab', 'ab', 'ab', 'ab') }}",
  "{{ '{:d}|{:5d}|{:05d}|{:+d}|{:,}|{:x}|{:#x}|{:o}|{:b}|{:X}'.format(42, 42, 42, 42, 1234567, 255, 255, 8, 5, 255) }}",
  "{{ '{:.2f}|{:8.3f}|{:e}|{:.3e}|{:g}|{:.3g}|{:%}|{:.1%}'.format(3.14159, 2.5, 12345.678, 0.00012, 0.0001, 1234567.0, 0.25, 0.125) }}",
  "{{ '{}|{}|{}|{:.3}'.format(1.0, 0.1, 1e20, 1.0) }}",
  "{{ '{0[0]}|{0[1]}|{1.a}'.format(items, d) }}",
  "{{ '{!r}|{!s}'.format('x', 'y') }}",
  "{{ '{:%Y-%m-%d %H:%M}'.format(start) }}",
  "{{ '%s|%r|%d|%5.2f|%-4s|%04d|%x|%e|%g|%%' % ('a', 'b', 7, 3.14159, 'z', 42, 255, 1234.5, 0.00001) }}",
  "{{ '%(a)s-%(b)d' % {'a': 'x', 'b': 3} }}",
  "{{ '%s' % none }} {{ '%s' % [1, 2] }} {{ '%s and %s' % (1, 2) }} {{ '%.2f' % 2.675 }} {{ '%.0f' % 0.5 }} {{ '%.0f' % 1.5 }}",
  "{{ '42'.zfill(5) }} {{ '-42'.zfill(5) }} {{ 'ab'.ljust(4, '.') }} {{ 'ab'.rjust(4) }} {{ 'ab'.center(7, '*') }} {{ 'abc'.center(6) }}",
  "{{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('x') }}",
  "{{ '123'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'a1'.isalnum() }} {{ '  '.isspace() }} {{ 'ABC'.isupper() }} {{ 'abc'.islower() }} {{ 'Ab Cd'.istitle() }}",
  "{{ 'line1\\nline2\\r\\nline3'.splitlines() }} {{ 'a\\nb'.splitlines(true) }}",
  "{{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.csv'.removesuffix('.csv') }}",
  "{{ 'hello'|length }} {{ 'héllo'|length }} {{ 'hello'[-1] }} {{ 'hello'[10] }}",
  "{{ job.parameters.file.split('/')[-1] }} {{ 'a/b/c'.split('/')[-2] }}",
  "{{ 'abc' * 2 }} {{ 2 * 'ab' }} {{ [1] * 3 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ (1,) + (2,) }}",
  "{{ 'abc' < 'abd' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ (1, 2) == (1, 2) }} {{ [1] == (1,) }}",
  "{{ 'x'.encode is defined }} {{ 'a b'.split()|length }} {{ 'hé\\n'.encode() }} {{ 'hé'.encode().decode() }}",
  "{{ 'tab\\there'.expandtabs(4) }}",
  "{{ 'HELLO'.casefold() }} {{ 'abc'.isidentifier() }} {{ 'abc'.isascii() }}",
];

export const FILTERS: string[] = [
  "{{ 'HeLLo'|lower }} {{ 'hello'|upper }} {{ 'hello world-foo(bar'|title }} {{ 'hELLO wORLD'|capitalize }}",
  "{{ s|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'aaa'|replace('a', 'b') }}|{{ 'aaa'|replace('a', 'b', 1) }}",
  "{{ missing|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ none|d('n') }} {{ 0|d(5, boolean=true) }}",
  "{{ items|length }} {{ d|count }} {{ 'abc'|length }} {{ t|length }}",
  "{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '0x1A'|int(0, 16) }} {{ 'ff'|int(base=16) }} {{ true|int }} {{ ' 12 '|int }} {{ '1_000'|int }} {{ none|int }}",
  "{{ '4.5'|float }} {{ 'x'|float }} {{ 3|float }} {{ '1e3'|float }} {{ 'nan'|float }} {{ 'inf'|float }} {{ 'x'|float(1) }}",
  "{{ 3|string }} {{ none|string }} {{ [1]|string }} {{ (1|string) ~ 'x' }}",
  "{{ 'abc'|list }} {{ d|list }} {{ t|list }} {{ range(2)|list }}",
  "{{ items|join }} {{ items|join(', ') }} {{ users|join(',', attribute='name') }} {{ [1, none, 'x']|join('-') }}",
  "{{ items|first }} {{ items|last }} {{ 'abc'|first }} {{ 'abc'|last }} {{ empty|first }}",
  "{{ 'abc'|reverse }} {{ items|reverse|list }} {{ t|reverse|list }}",
  "{{ items|sort }} {{ items|sort(reverse=true) }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ users|sort(attribute='age')|map(attribute='name')|list }}",
  "{{ users|sort(attribute='city,age')|map(attribute='name')|join(',') }}",
  "{{ words|unique|list }} {{ words|unique(case_sensitive=true)|list }} {{ [1, 2, 1, 3]|unique|list }} {{ users|unique(attribute='city')|map(attribute='name')|list }}",
  "{{ words|map('upper')|list }} {{ users|map(attribute='name')|join('/') }} {{ users|map(attribute='zip', default='?')|list }} {{ items|map('string')|list }}",
  "{{ items|select('odd')|list }} {{ items|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ items|select('gt', 1)|list }} {{ items|select('in', [1, 2])|list }}",
  "{{ users|selectattr('city', 'equalto', 'Sydney')|map(attribute='name')|list }} {{ users|rejectattr('age', 'lt', 30)|map(attribute='name')|list }} {{ users|selectattr('age')|list|length }}",
  "{{ items|sum }} {{ [1.5, 2]|sum }} {{ users|sum(attribute='age') }} {{ items|sum(start=10) }}",
  "{{ items|min }} {{ items|max }} {{ words|min }} {{ words|max }} {{ words|max(case_sensitive=true) }} {{ users|max(attribute='age') }} {{ empty|min }}",
  "{{ -3|abs }} {{ (-3)|abs }} {{ -2.5|abs }} {{ (0 - 2.5)|abs }}",
  "{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3|round }} {{ 2.1|round(method='ceil') }} {{ 2.9|round(method='floor') }} {{ 1234.5678|round(-2) }} {{ 0.5|round }}",
  "{{ range(7)|batch(3)|list }} {{ range(7)|batch(3, 'x')|list }} {{ range(7)|slice(3)|list }} {{ range(7)|slice(3, 0)|list }}",
  "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}",
  "{{ 'The quick brown fox jumps over the lazy dog'|wordwrap(10) }}",
  "{{ 'short'|wordwrap(10) }}|{{ 'a-very-long-hyphenated-word and more'|wordwrap(8) }}|{{ 'abcdefghijklmnop'|wordwrap(5) }}|{{ 'one two three'|wordwrap(5, wrapstring='|') }}",
  "{{ 'The quick brown fox jumps over the lazy dog'|truncate(20) }}|{{ 'The quick brown fox'|truncate(9, true) }}|{{ 'short'|truncate(3) }}|{{ 'hello world'|truncate(9, end='~') }}|{{ 'hello world foo bar'|truncate(12, leeway=0) }}",
  "{{ 'x'|center(5) }}|{{ 'ab'|center(6) }}|{{ 'abc'|center }}",
  "{{ '%s-%s'|format('a', 1) }} {{ '%(x)s'|format(x='k') }} {{ '%.3f'|format(1) }}",
  "{{ d|tojson }} {{ items|tojson }} {{ 'é<>&\\''|tojson }} {{ none|tojson }} {{ [1.0, true]|tojson }} {{ t|tojson }}",
  "{{ {'z': {'b': 1, 'a': [1, 2]}}|tojson(indent=2) }}",
  "{{ start|tojson }}",
  "{{ 'a b&c/d?e=é'|urlencode }} {{ {'q': 'a b', 'x': 1}|urlencode }} {{ [('a', 1), ('b', 'c d')]|urlencode }}",
  "{{ html|escape }} {{ html|e }} {{ html|forceescape }} {{ (html|safe)|e }}",
  "{{ d|dictsort }} {{ d|dictsort(by='value', reverse=true) }} {{ {'B': 1, 'a': 2}|dictsort }} {{ {'B': 1, 'a': 2}|dictsort(true) }}",
  "{% for g in users|groupby('city') %}{{ g.grouper }}:{{ g.list|map(attribute='name')|join(',') }};{% endfor %}",
  "{% for city, people in users|groupby('city') %}{{ city }}={{ people|length }} {% endfor %}",
  "{{ users|groupby('city')|list|length }} {{ (users|groupby('city')|first).grouper }}",
  "{{ users[0]|attr('name') }}|{{ d|attr('a') }}|{{ d|attr('keys') is callable }}",
  "{{ d|items|list }} {{ missing|items|list }}",
  "{{ '<p>Hello <b>x</b></p>  &amp; more'|striptags }}",
  "{{ 'one two  three'|wordcount }} {{ 1500|filesizeformat }} {{ 1500000|filesizeformat }} {{ 1024|filesizeformat(true) }} {{ 1|filesizeformat }} {{ 999|filesizeformat }}",
  "{{ d|pprint }} {{ 'x'|pprint }}",
  "{{ {'class': 'a', 'id': 1, 'n': none}|xmlattr }}",
  "{{ items|map('int')|sum }} {{ ['1', '2']|map('int')|list }} {{ words|map('replace', 'a', 'A')|list }} {{ words|map('truncate', 4, true, '')|list }}",
  "{{ [3, 'a']|sort }}",
  "{{ 'abc'|nosuchfilter }}",
];

export const ARITHMETIC_EXTRA: string[] = [
  "{% set val = state['x'].x | int %}{{ val % 2 == 1 }}",
  "{{ (vars.wait_mins + 15) * 60 }} {{ vars.wait_mins }}m",
  "{{ 10 / 2 }} {{ 10 // 3 }} {{ 10 % 3 }} {{ -10 // 3 }} {{ -10 % 3 }} {{ 10 % -3 }} {{ 7.5 // 2 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }}",
  "{{ 2 ** -1 }} {{ 2 ** 0.5 }} {{ 4 ** 0.5 }} {{ 10 ** 20 }} {{ 1.5 ** 2 }} {{ (-8) ** 2 }}",
  "{{ true + true }} {{ true * 3 }} {{ 1 + 1.0 }} {{ 0.1 * 3 }} {{ 1 / 3 }} {{ 2 / 3 }} {{ 1e308 * 10 }} {{ -1e308 * 10 }}",
  "{{ 1 + 'a' }}",
  "{{ 'a' + 1 }}",
  "{{ 1 // 0 }}",
  "{{ 1 % 0 }}",
  "{{ 1.0 / 0 }}",
  "{{ [1] - [1] }}",
  "{{ none + 1 }}",
  "{{ missing + 1 }}",
  "{{ 1 < 'a' }}",
  "{{ 1 == 'a' }} {{ none == 0 }} {{ [] == [] }} {{ {} == {} }} {{ d == {'a': 1, 'b': 2, 'c': 3} }}",
  "{{ 3 > 2.5 }} {{ 2 >= 2.0 }} {{ -1 < 0 }}",
  "{{ 0.1 + 0.7 }} {{ 1.1 * 1.1 }} {{ 100 * 1.1 }} {{ 3.0 - 1 }} {{ 1e16 + 1 }} {{ 123.456e5 }}",
];

export const DATETIME: string[] = [
  "{{ start.strftime('%Y-%m-%d') }}",
  "{{ ustart.isoformat() }}",
  "{{ (start.fromtimestamp(start.timestamp()-86400)).date() }}",
  "{{ utils.date(year=1970, month=1, day=1) }}",
  "{{ utils.date(year=ustart.year + 1, month=4, day=25).strftime('%A') }}",
  "{{ utils.datetime(year=ustart.year + 1, month=1, day=1) }}",
  "{{ utils.datetime(year=ustart.year + 1, month=1, day=1).strftime('%A') }}",
  "{{ ustart + utils.dateutil.relativedelta.relativedelta(months=6) }}",
  "{% set relativedelta = utils.dateutil.relativedelta.relativedelta %}{{ ustart + relativedelta(months=6) }}",
  "{{ utils.parsedate.isoparse('2020-02-11T09:30:00+11:00') }}",
  "{{ utils.path.basename('s3://bucket.xyzzy.com/an/s3/key') }}",
  "{{ utils.path.basename(realm.s3_temp) }}",
  "{{ utils.re.search('s3://([^.]*)', 's3://bucket.xyzzy.com/an/s3/key').group(1) }}",
  "{{ utils.s3bucket('s3://bucket.xyzzy.com/an/s3/key') }} {{ utils.s3bucket(realm.s3_temp) }} {{ utils.s3key('s3://bucket.xyzzy.com/an/s3/key') }} {{ utils.s3key(realm.s3_temp) }}",
  "{{ utils.s3bucket('s3:b/k/') }}|{{ utils.s3key('/b//k/x/') }}|{{ utils.s3key('b') }}",
  "{{ utils.s3bucket('') }}",
  "{{ (start - utils.timedelta(days=1)).date() }}",
  "{{ realm.realm }} {{ realm['realm'] }}",
  "{% set word = globals.a | lower %}{{ word == word | reverse }}",
  "{% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts > utils.timedelta(hours=4) }}",
  "Time since last run: {% set ts=utils.parsedate.parse(state['sid']) %}{{ ustart-ts }}",
  "The value of global g1 is '{{ globals.g1 }}'",
  "{\"g1\": \"{{ globals.g1 }}\", \"g2\": \"{{ globals.g2 }}\"}",
  "{{ globals.lava.master_ustart.strftime('%Y-%m-%d') }}",
  "aws s3 ls {{realm.s3_payloads}}/ --recursive",
  "s3://{{ globals.s3obj.Bucket }}/{{ globals.s3obj.Key }}",
  "unload_demo/{{start.strftime('%Y/%m/%d')}}/",
  "/Interesting/Data/{{job.parameters.file}}.split('/')[-1]}}",
  "{{ job.job_id }}@{{ realm.realm }} ({{ job.run_id }})",
  "Failed on attempt {{ globals.lava.iteration }} but will try again!",
  "{{ job.globals.a_global }} {{ state.x }} {{ state['x'] }}",
  "{{ realm.s3_temp }}/{{ job.job_id }}/output.csv",
  "{{ start.strptime('%Y-%m-%d') }}",
  "{{ utils.re.search('s3://([^.]*)', 's3://bucket.xyzzy.com/an/s3/key)'.group(1) }}",
  "{{ start.year }} {{ start.month }} {{ start.day }} {{ start.hour }} {{ start.minute }} {{ start.second }} {{ start.microsecond }} {{ dt.microsecond }}",
  "{{ start.weekday() }} {{ start.isoweekday() }} {{ start.isocalendar() }} {{ start.toordinal() }} {{ start.date() }} {{ start.time() }} {{ start.timetz() }}",
  "{{ start.timestamp() }} {{ ustart.timestamp() }} {{ dt.timestamp() }}",
  "{{ start.utcoffset() }} {{ ustart.utcoffset() }} {{ dt.utcoffset() }} {{ start.tzname() }} {{ ustart.tzname() }}",
  "{{ start.astimezone(utils.dateutil.tz.gettz('America/New_York')) }} {{ ustart.astimezone(utils.dateutil.tz.UTC) }} {{ start.astimezone(utils.dateutil.tz.tzutc()).isoformat() }}",
  "{{ start.astimezone() }}",
  "{{ start.replace(day=1) }} {{ start.replace(year=2023, tzinfo=none) }} {{ start.replace(hour=0, minute=0).isoformat() }}",
  "{{ dt.isoformat() }} {{ dt.isoformat(' ') }} {{ dt.isoformat(timespec='seconds') }} {{ dt.isoformat(timespec='milliseconds') }} {{ dt }}",
  "{{ day.isoformat() }} {{ day.weekday() }} {{ day.replace(day=15) }} {{ day.strftime('%d/%m/%Y') }} {{ day.year }}",
  "{{ start - ustart }} {{ start == ustart }} {{ start < ustart + utils.timedelta(seconds=1) }} {{ dt - dt.replace(day=1) }} {{ ustart - start }}",
  "{{ start > dt }}",
  "{{ start == dt }}",
  "{{ start > day }}",
  "{{ dt + td }} {{ dt - td }} {{ day + td }} {{ day - td }} {{ day - utils.date(2024, 1, 1) }}",
  "{{ td.days }} {{ td.seconds }} {{ td.microseconds }} {{ td.total_seconds() }} {{ td * 2 }} {{ td / 2 }} {{ td // 2 }} {{ td / utils.timedelta(hours=1) }} {{ td // utils.timedelta(hours=1) }} {{ -td }} {{ td * 1.5 }} {{ td % utils.timedelta(hours=1) }}",
  "{{ utils.timedelta(hours=1) < utils.timedelta(days=1) }} {{ utils.timedelta(0) == utils.timedelta() }} {{ utils.timedelta(weeks=1, minutes=90, milliseconds=1500) }} {{ utils.timedelta(hours=1.5) }} {{ utils.timedelta(days=0.5, seconds=0.25) }}",
  "{{ utils.timedelta(hours=-1)|abs }} {{ (utils.timedelta(0)) is sameas none }} {% if utils.timedelta(0) %}t{% else %}f{% endif %}",
  "{{ utils.datetime(2024, 1, 31) + utils.dateutil.relativedelta.relativedelta(months=1) }} {{ utils.datetime(2024, 8, 31) + utils.dateutil.relativedelta.relativedelta(months=6) }} {{ utils.date(2024, 3, 31) - utils.dateutil.relativedelta.relativedelta(months=1) }}",
  "{{ utils.datetime(2024, 2, 29) + utils.dateutil.relativedelta.relativedelta(years=1) }} {{ utils.datetime(2024, 2, 29) + utils.dateutil.relativedelta.relativedelta(years=-4, days=+1) }} {{ utils.date(2024, 1, 15) + utils.dateutil.relativedelta.relativedelta(day=31) }}",
  "{{ utils.date(2024, 3, 15) + utils.dateutil.relativedelta.relativedelta(weekday=utils.dateutil.relativedelta.MO) }} {{ utils.date(2024, 3, 15) + utils.dateutil.relativedelta.relativedelta(weekday=utils.dateutil.relativedelta.FR(-2)) }} {{ utils.date(2024, 3, 15) + utils.dateutil.relativedelta.relativedelta(months=1, day=1, days=-1) }}",
  "{{ utils.dateutil.relativedelta.relativedelta(utils.datetime(2024, 3, 15, 10), utils.datetime(2023, 1, 31, 8, 30)) }} {{ utils.dateutil.relativedelta.relativedelta(utils.date(2024, 1, 1), utils.date(2024, 3, 15)) }}",
  "{{ utils.dateutil.relativedelta.relativedelta(months=6).months }} {{ utils.dateutil.relativedelta.relativedelta(hours=49).days }} {{ utils.dateutil.relativedelta.relativedelta(weeks=2).weeks }}",
  "{{ start + utils.dateutil.relativedelta.relativedelta(hours=12) }} {{ start + utils.dateutil.relativedelta.relativedelta(months=1) }} {{ start - utils.dateutil.relativedelta.relativedelta(months=1, day=1) }}",
  "{{ utils.datetime(2024, 10, 5, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney')) + utils.timedelta(days=1) }} {{ utils.datetime(2024, 4, 6, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney')) + utils.timedelta(days=1) }}",
  "{{ (utils.datetime(2024, 4, 7, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney')) - utils.datetime(2024, 4, 6, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney'))) }} {{ utils.datetime(2024, 4, 7, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney')) - utils.datetime(2024, 4, 6, 12, tzinfo=utils.dateutil.tz.gettz('UTC')) }}",
  "{{ utils.datetime(2024, 7, 1, tzinfo=utils.dateutil.tz.gettz('Europe/London')) }} {{ utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.gettz('Asia/Kolkata')).isoformat() }} {{ utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.gettz('America/St_Johns')) }}",
  "{{ utils.datetime(2024, 7, 1, 12, tzinfo=utils.dateutil.tz.gettz('Europe/London')).strftime('%Z %z') }} {{ utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.gettz('America/New_York')).strftime('%Z') }} {{ start.strftime('%Z %z') }} {{ ustart.strftime('%Z %z') }}",
  "{{ utils.datetime.fromtimestamp(0, utils.dateutil.tz.UTC) }} {{ utils.datetime.fromtimestamp(86400.5, utils.dateutil.tz.UTC) }} {{ utils.datetime.fromtimestamp(1710455400) }} {{ utils.date.fromtimestamp(1710455400) }}",
  "{{ utils.datetime.fromisoformat('2024-03-15T09:30:00') }} {{ utils.datetime.fromisoformat('2024-03-15 09:30:00.5+05:30') }} {{ utils.datetime.fromisoformat('2024-03-15') }} {{ utils.date.fromisoformat('2024-03-15') }}",
  "{{ utils.datetime.strptime('2024-03-15 09:30', '%Y-%m-%d %H:%M') }} {{ utils.datetime.strptime('15/Mar/2024:09:30:00 +1100', '%d/%b/%Y:%H:%M:%S %z') }} {{ utils.datetime.strptime('03/15/24 9PM', '%m/%d/%y %I%p') }}",
  "{{ utils.datetime.strptime('x', '%Y') }}",
  "{{ utils.datetime.combine(utils.date(2024, 1, 2), utils.time(3, 4)) }} {{ utils.datetime(2024, 1, 1).date() == utils.date(2024, 1, 1) }}",
  "{{ utils.datetime(2024, 13, 1) }}",
  "{{ utils.date(2023, 2, 29) }}",
  "{{ utils.time(13, 5).strftime('%I:%M %p') }} {{ utils.time(13, 5).isoformat() }} {{ utils.time(13, 5, 1).hour }} {{ utils.time(1, 2) < utils.time(3, 4) }}",
  "{{ utils.parsedate.parse('2024-03-15') }} {{ utils.parsedate.parse('2024-03-15 10:20:30') }} {{ utils.parsedate.parse('2024-03-15T10:20:30.5+05:30') }} {{ utils.parsedate.parse('20240315') }} {{ utils.parsedate.parse('20240315T102030') }}",
  "{{ utils.parsedate.parse('March 15, 2024') }} {{ utils.parsedate.parse('15 March 2024 10:00') }} {{ utils.parsedate.parse('Mar 15 2024 10:00 PM') }} {{ utils.parsedate.parse('Fri, 15 Mar 2024 09:30:00 +1100') }} {{ utils.parsedate.parse('Fri, 15 Mar 2024 09:30:00 GMT') }}",
  "{{ utils.parsedate.parse('03/15/2024') }} {{ utils.parsedate.parse('15/03/2024') }} {{ utils.parsedate.parse('01/02/2024') }} {{ utils.parsedate.parse('01/02/2024', dayfirst=true) }} {{ utils.parsedate.parse('2024/03/15 08:00') }} {{ utils.parsedate.parse('2024-03-15 08:00:00 -0500') }}",
  "{{ utils.parsedate.parse('15 Mar 2024 10:00 +11:00') }} {{ utils.parsedate.parse('2024-03-15T00:00:00Z') - utils.parsedate.parse('2024-03-14T00:00:00+00:00') }} {{ utils.parsedate.parse('2024-03-15T10:20', ignoretz=true) }}",
  "{{ utils.parsedate.parse('not a date') }}",
  "{{ utils.parsedate.isoparse('2024-03-15') }} {{ utils.parsedate.isoparse('2024-03-15T10') }} {{ utils.parsedate.isoparse('2024-03-15T10:20:30.123456789Z') }} {{ utils.parsedate.isoparse('20240315T102030-0500') }} {{ utils.parsedate.isoparse('2024-W11-5') }} {{ utils.parsedate.isoparse('2024-075') }}",
  "{{ utils.parsedate.isoparse('2024-13-01') }}",
  "{{ utils.dateutil.parser.parse('2024-03-15T09:30:00+11:00') == start }} {{ utils.dateutil.tz.gettz('UTC') }} {{ utils.dateutil.tz.tzoffset(none, 3600) }} {{ utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.tzoffset('X', -3600)) }}",
  "{{ utils.path.dirname('/a/b/c.txt') }} {{ utils.path.join('a', 'b', 'c') }} {{ utils.path.join('a/', '/b', 'c') }} {{ utils.path.splitext('x/y.tar.gz') }} {{ utils.path.splitext('.bashrc') }} {{ utils.path.split('/a/b') }} {{ utils.path.normpath('/a/./b/../c//d') }} {{ utils.path.isabs('/x') }} {{ utils.path.basename('dir/') }} {{ utils.path.dirname('file') }} {{ utils.path.dirname('//a') }}",
  "{{ utils.re.match('a+', 'aaab').group() }} {{ utils.re.match('b', 'ab') }} {{ utils.re.fullmatch('a+', 'aaa') is not none }} {{ utils.re.findall('\\\\d+', 'a1b22c333') }} {{ utils.re.findall('(\\\\w)(\\\\d)', 'a1 b2') }} {{ utils.re.sub('\\\\s+', '-', 'a  b   c') }}",
  "{{ utils.re.sub('(\\\\w+)@(\\\\w+)', '\\\\2 at \\\\1', 'joe@example') }} {{ utils.re.sub('(?P<x>a)', '[\\\\g<x>]', 'banana') }} {{ utils.re.sub('a', 'o', 'banana', count=2) }} {{ utils.re.subn('a', 'o', 'banana') }} {{ utils.re.split('[,;]', 'a,b;c') }} {{ utils.re.split('(,)', 'a,b') }}",
  "{% set m = utils.re.search('(?P<year>\\\\d{4})-(?P<month>\\\\d\\\\d)', 'on 2024-03-15') %}{{ m.group('year') }} {{ m.group(1, 2) }} {{ m.groups() }} {{ m.groupdict() }} {{ m.start() }} {{ m.end() }} {{ m.span(2) }} {{ m[0] }} {{ m.string }} {{ m }}",
  "{{ utils.re.search('^b$', 'a\\nb\\nc', utils.re.M).group() }} {{ utils.re.search('A', 'xa', utils.re.IGNORECASE).group() }} {{ utils.re.search('a.b', 'a\\nb', utils.re.S) is none }} {{ utils.re.search('x$', 'x\\n') is none }} {{ utils.re.escape('a.b*c') }}",
  "{{ utils.re.compile('(\\\\d+)').findall('a1b2') }} {{ utils.re.compile('\\\\d').sub('#', 'a1b2') }} {{ utils.re.compile('z').search('abc') }}",
  "{% for m in utils.re.finditer('\\\\d', 'a1b2') %}{{ m.group() }}{{ m.start() }}{% endfor %}",
  "{{ utils.re.search('(', 'x') }}",
  "{{ utils.uuid()|string|length }} {{ utils.uuid() is not none }}",
  "{{ utils.datetime(2024, 1, 5).strftime('%a %A %b %B %d %j %U %W %w %y %Y %H %I %p %M %S %f %%') }}",
  "{{ utils.datetime(2024, 1, 5, 14, 3, 9).strftime('%c | %x | %X | %D | %F | %T | %R | %e | %-d | %-m | %-H | %k | %l | %C | %G %V %u | %h') }}",
  "{{ utils.datetime(2021, 1, 3).strftime('%G-%V-%u %U %W') }} {{ utils.datetime(2020, 12, 31).strftime('%G-%V %j') }}",
  "{{ utils.datetime.min }} {{ utils.datetime.max }} {{ utils.timedelta.max }} {{ utils.date.min }}",
  "{{ utils.datetime(2024, 1, 1) - utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.UTC) }}",
];

/** Generated: every operator across a grid of number values. */
export function generatedArithmetic(): string[] {
  const values = ["0", "1", "-3", "7", "2.5", "-0.5", "1.0", "true", "10", "0.1"];
  const ops = ["+", "-", "*", "/", "//", "%", "**"];
  const out: string[] = [];
  for (const op of ops) for (const a of values) for (const b of values) out.push(`{{ ${a} ${op} ${b} }}`);
  for (const cmp of ["<", "<=", "==", "!=", ">", ">="]) {
    out.push(values.map((b) => `{{ 2.5 ${cmp} ${b} }}`).join("|"));
    out.push(values.map((b) => `{{ 1 ${cmp} ${b} }}`).join("|"));
  }
  return out;
}

/** Cases where we knowingly differ, with the reason (documented in src/jinja/README.md). */
export function knownDifferences(): Map<string, string> {
  const known = new Map<string, string>();
  for (const a of ["-3", "-0.5", "-7"]) {
    for (const b of ["2.5", "-0.5", "0.1"]) known.set(`{{ ${a} ** ${b} }}`, "complex numbers are not supported (we raise ValueError)");
  }
  known.set("{{ zero ** -2 }}", "Decimal Infinity/NaN are not represented (we raise DivisionByZero)");
  known.set("{{ 7 ** -0.5 }}", "float ** fractional exponent uses the JS engine's pow (last-digit rounding)");
  return known;
}

/** Generated: split per-case because division by zero aborts a whole template. */
export function generatedArithmeticSingles(): string[] {
  const values = ["0", "1", "-3", "2.5", "0.0", "-7"];
  const ops = ["/", "//", "%", "**"];
  const out: string[] = [];
  for (const op of ops) for (const a of values) for (const b of values) out.push(`{{ ${a} ${op} ${b} }}`);
  return out;
}

/** Generated: string methods across inputs. */
export function generatedStrings(): string[] {
  const inputs = ["''", "'abc'", "'  Mixed Case  '", "'a,b,,c'", "'hello world'", "'ÉCOLE été'", "'x-y_z 9'"];
  const calls = [
    ".upper()",
    ".lower()",
    ".title()",
    ".capitalize()",
    ".strip()",
    ".split()",
    ".split(',')",
    ".rsplit(' ', 1)",
    ".replace('a', 'A')",
    ".startswith('a')",
    ".endswith('c')",
    ".find('b')",
    ".count('a')",
    ".isdigit()",
    ".isalpha()",
    ".swapcase()",
    ".center(12, '.')",
    ".zfill(8)",
    "|length",
    "|reverse",
    "|title",
    "|capitalize",
    "|upper",
    "|trim",
    "|wordcount",
    "|list",
    "|first",
    "|last",
    "|center(10)",
    "|truncate(5)",
    "|urlencode",
    "|tojson",
    "|e",
  ];
  return inputs.map((i) => calls.map((c) => `{{ ${i}${c} }}`).join("|"));
}

/** Generated: strftime directives across dates. */
export function generatedStrftime(): string[] {
  const dates = ["utils.datetime(2024, 1, 1)", "utils.datetime(2023, 12, 31, 23, 59, 59)", "utils.datetime(1999, 2, 28, 12, 0, 0, 7)", "start", "ustart", "dt", "utils.date(2000, 2, 29)"];
  const codes = ["%a", "%A", "%b", "%B", "%d", "%H", "%I", "%j", "%m", "%M", "%p", "%S", "%U", "%w", "%W", "%y", "%Y", "%z", "%Z", "%f", "%G", "%V", "%u", "%e", "%-j"];
  return dates.map((d) => codes.map((c) => `{{ ${d}.strftime('${c}') }}`).join("|"));
}

/** Generated: timedelta and relativedelta arithmetic on month ends. */
export function generatedDates(): string[] {
  const out: string[] = [];
  const bases = ["utils.datetime(2024, 1, 31, 12)", "utils.datetime(2023, 2, 28)", "utils.date(2024, 2, 29)", "utils.datetime(2024, 12, 31, 23, 59, 59)", "ustart"];
  const deltas = [
    "utils.timedelta(days=1)",
    "utils.timedelta(hours=-36)",
    "utils.timedelta(seconds=1)",
    "utils.timedelta(weeks=52)",
    "utils.dateutil.relativedelta.relativedelta(months=1)",
    "utils.dateutil.relativedelta.relativedelta(months=-13)",
    "utils.dateutil.relativedelta.relativedelta(years=1, months=2, days=3)",
    "utils.dateutil.relativedelta.relativedelta(day=31)",
    "utils.dateutil.relativedelta.relativedelta(hours=+30)",
  ];
  for (const b of bases) {
    out.push(deltas.map((d) => `{{ ${b} + ${d} }}`).join("|"));
    out.push(deltas.map((d) => `{{ ${b} - ${d} }}`).join("|"));
  }
  const tds = ["utils.timedelta(0)", "utils.timedelta(days=1)", "utils.timedelta(days=-1)", "utils.timedelta(seconds=86399)", "utils.timedelta(days=2, microseconds=1)", "utils.timedelta(hours=-1, minutes=30)"];
  for (const a of tds) out.push(tds.map((b) => `{{ ${a} + ${b} }},{{ ${a} - ${b} }},{{ ${a} < ${b} }}`).join("|"));
  return out;
}

/** Generated: filters across a set of values. */
export function generatedFilters(): string[] {
  const values = ["[3, 1, 2]", "['b', 'A', 'c']", "'hello'", "[]", "[1.5, -2, 0]", "(1, 2)", "{'b': 1, 'a': 2}", "none", "42", "-7.25"];
  const filters = ["length", "list", "first", "last", "sort", "join('-')", "sum", "min", "max", "unique|list", "reverse|list", "tojson", "string", "int", "float", "abs", "round", "default('D')", "d('D', true)", "batch(2)|list", "slice(2)|list", "map('string')|list", "select|list", "pprint", "count", "e", "dictsort", "items|list", "trim", "upper"];
  const out: string[] = [];
  for (const f of filters) for (const v of values) out.push(`{{ ${v}|${f} }}`);
  return out;
}

/** Decimal values (DynamoDB numbers as boto3 returns them) mixed with ints and floats; rendered with DECIMAL_CONTEXT. */
export const DECIMALS: string[] = [
  "{{ d }} {{ n }} {{ one }} {{ neg }} {{ big }} {{ tiny }} {{ sci }} {{ zero }}",
  "{{ [d, n] }} {{ (d,) }} {{ {'k': n} }} {{ job.parameters }} {{ job.parameters.n }} {{ job }}",
  "{{ d|string }} {{ d ~ '' }} {{ d|repr if false else '' }}{{ nums|join(',') }} {{ d|e }}",
  "{{ n + 1 }} {{ 1 + n }} {{ n - 1 }} {{ 1 - n }} {{ n * 2 }} {{ 2 * n }} {{ d * d }} {{ d + d }} {{ d - d }}",
  "{{ one / 3 }} {{ 2 / one }} {{ n / 2 }} {{ n / 5 }} {{ one / 8 }} {{ d / 7 }} {{ big / 3 }} {{ neg / 3 }}",
  "{{ n // 2 }} {{ neg // 1 }} {{ n % 3 }} {{ neg % 1 }} {{ 7 // n }} {{ 7 % n }} {{ d ** 2 }} {{ n ** -1 }} {{ 2 ** n }}",
  "{{ big * big }} {{ big + tiny }} {{ tiny * tiny }} {{ sci + 1 }} {{ sci * 1000000 }} {{ zero * neg }} {{ neg + 2.75 - 0 }}",
  "{{ n + True }} {{ -d }} {{ +d }} {{ -zero }} {{ +(zero * neg) }} {{ zero * neg }} {{ neg - neg }}",
  "{{ n + 1.5 }}",
  "{{ 1.5 * d }}",
  "{{ d / 0 }}",
  "{{ zero / 0 }}",
  "{{ n // 0 }}",
  "{{ n % 0 }}",
  "{{ n + 'a' }}",
  "{{ 'ab' * n }}",
  "{{ d == 1.5 }} {{ d == 1.50 }} {{ n == 5 }} {{ n == 5.0 }} {{ d != 1.5 }} {{ one == true }} {{ tiny == 0.0000001 }}",
  "{{ d < 2 }} {{ d > 1.25 }} {{ n >= 5 }} {{ n <= 4.99 }} {{ 4 < n < 6 }} {{ neg < zero }} {{ d in [1.5] }} {{ 5 in job.parameters.values()|list }}",
  "{{ n < 'a' }}",
  "{{ n < none }}",
  "{% if zero %}t{% else %}f{% endif %} {% if d %}t{% endif %} {{ zero or 'z' }} {{ not zero }}",
  "{{ nums|sort }} {{ nums|max }} {{ nums|min }} {{ nums|sum }} {{ nums|sum(start=10) }} {{ [d, 1, 2.5]|sort }} {{ [n, 5]|unique|list }}",
  "{{ d|int }} {{ neg|int }} {{ (big / 1000000)|int }} {{ n|float }} {{ d|float }} {{ neg|abs }} {{ d|abs }} {{ tiny|float }}",
  "{{ d|round }} {{ half|round }} {{ neg|round(1) }} {{ big|round(2) }} {{ n|round(2) }} {{ d|round(0, 'ceil') }} {{ neg|round(1, 'floor') }} {{ d|round(1, 'floor') }}",
  "{{ big|int }} {{ -big|int }} {{ '%d'|format(big) }} {{ '%i'|format(-big) }} {{ (big|int) + 1 }}",
  "{{ d|round(-1) }}",
  "{{ n|round(-1, 'ceil') }}",
  "{{ '%d'|format(d) }} {{ '%s'|format(d) }} {{ '%r'|format(d) }} {{ '%.3f'|format(d) }} {{ '%5.1f'|format(neg) }} {{ '%e'|format(big) }} {{ '%g'|format(tiny) }} {{ '%i'|format(neg) }}",
  "{{ '%x'|format(n) }}",
  "{{ '%c'|format(n) }}",
  "{{ '{}'.format(d) }} {{ '{:.1f}'.format(d) }} {{ '{:10.4f}|'.format(neg) }} {{ '{:e}'.format(d) }} {{ '{:.2e}'.format(big) }} {{ '{:g}'.format(tiny) }} {{ '{:%}'.format(d) }} {{ '{:.1%}'.format(d) }}",
  "{{ '{:,}'.format(big) }} {{ '{:+}'.format(d) }} {{ '{:08.2f}'.format(neg) }} {{ '{:^9}'.format(d) }} {{ '{!r}'.format(n) }} {{ '{:.3}'.format(big) }} {{ '{:f}'.format(sci) }} {{ '{:.2f}'.format(half) }}",
  "{{ '{:d}'.format(n) }}",
  "{{ '{:x}'.format(n) }}",
  "{{ d|tojson }}",
  "{{ job.parameters|tojson }}",
  "{% if false %}{{ d|nosuchfilter }}{% endif %}{{ d if true else d|nosuch }}{{ 'soft' if false else d is nosuchtest }}{{ (d is nosuchtest) if false else 'soft' }}",
  "{% if true %}{{ d|nosuchfilter }}{% endif %}",
  "{% for x in [1] %}{% if false %}{{ x|nosuch }}{% endif %}{% endfor %}ok",
  "{{ 1 is number if true else 2 }}",
  "{{ 1 is divisibleby 1 in [true] }}",
  "{{ 1 is number is number }}",
  "{{ 1 is number not in [1] }}",
  "{{ n is number }} {{ n is integer }} {{ n is float }} {{ n is even }} {{ n is odd }} {{ neg is odd }} {{ n is divisibleby 5 }} {{ d is divisibleby 0.5 if false else '' }}",
  "{{ range(n)|list }}",
  "{{ d|filesizeformat }} {{ big|filesizeformat }}",
  "{{ d.is_integer() if false else '' }}{{ n|string|length }} {{ {n: 'x'}[5] }} {{ {5: 'y'}[n] }}",
  "{{ half * 2 == 5 }} {{ (d * 3) ~ '' }} {{ (one / 3) * 3 }} {{ one / 3 + one / 3 }}",
];

/** Numeric conversions and arithmetic of Jinja's lenient Undefined (most raise, int/float included). */
export const UNDEFINED_NUMERIC: string[] = [
  "{{ [] | first | int }}",
  "{{ [] | first | float }}",
  "{{ missing | int }}",
  "{{ missing | int(7) }}",
  "{{ missing | float }}",
  "{{ missing | round }}",
  "{{ missing | abs }}",
  "{{ missing | filesizeformat }}",
  "{{ [missing, 1] | sum }}",
  "{{ missing + 1 }}",
  "{{ 1 - missing }}",
  "{{ missing * 2 }}",
  "{{ -missing }}",
  "{{ missing < 1 }}",
  "{{ missing == 0 }} {{ missing is number }} {{ missing|default(3) + 1 }} {{ missing ~ 'x' }}",
  "{{ '%d'|format(missing) }}",
  "{{ '%s|'|format(missing) }}",
  "{{ '%f'|format(missing) }}",
  "{{ '{}|'.format(missing) }}",
  "{{ '{:d}'.format(missing) }}",
  "{{ ([] | last) | int }}",
  "{{ ({} | first) | float(1.5) }}",
  "{{ [] | max | int }}",
  "{{ empty | sum }} {{ empty | first is defined }}",
];

/** Every Decimal operand against ints, floats and Decimals under each operator (DECIMAL_CONTEXT). */
export function generatedDecimalArithmetic(): string[] {
  const left = ["d", "n", "neg", "big", "tiny", "sci", "zero", "one", "half"];
  const right = ["3", "-7", "0", "d", "neg", "tiny", "big", "2.5", "true"];
  const out: string[] = [];
  for (const a of left) {
    for (const op of ["+", "-", "*", "/", "//", "%"]) for (const b of right) out.push(`{{ ${a} ${op} ${b} }}`);
    for (const b of ["2", "3", "-2", "0", "n"]) out.push(`{{ ${a} ** ${b} }}`);
    for (const b of ["3", "7", "n"]) out.push(`{{ ${b} / ${a} }} {{ ${b} - ${a} }} {{ ${b} // ${a} }} {{ ${b} % ${a} }}`);
    for (const cmp of ["<", "==", ">="]) out.push(`{{ ${a} ${cmp} 1.5 }} {{ ${a} ${cmp} 5 }} {{ ${a} ${cmp} d }} {{ 0.1 ${cmp} ${a} }}`);
  }
  return out;
}
