import { seededRandom } from "../support/random.ts";
/**
 * Generated differential cases, by category, beyond the hand-written corpus. Deterministic: the
 * random picks come from a seeded generator, so a run always renders the same templates. Every case
 * is a single template rendered with LAVA_CONTEXT by Python's Jinja2 and by ours.
 */


function picker(seed: number): <T>(xs: readonly T[]) => T {
  const rnd = seededRandom(seed);
  return <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
}

const expr = (e: string): string => `{{ ${e} }}`;

/** Non-ASCII text used by every string category. */
export const TEXTS = [
  "''",
  "'abc'",
  "'  Mixed Case  '",
  "'Straße'",
  "'ÉCOLE été'",
  "'naïve café'",
  "'İstanbul ıi'",
  "'ǅungla ǆ'",
  "'ﬁnance ﬂow'",
  "'Ὀδυσσεύς ΣΑΣ'",
  "'日本語 テキスト'",
  "'emoji 😀 ok'",
  "'tab\\tand\\nnewline'",
  "'١٢٣ ٤'",
  "'x-y_z 9'",
];

function integers(): string[] {
  const lits = ["0", "7", "-7", "2 ** 53", "2 ** 53 + 1", "9007199254740993", "-9007199254740993", "2 ** 63 - 1", "2 ** 64", "10 ** 20", "-(10 ** 19)", "12345678901234567890"];
  const ops = ["+", "-", "*", "//", "%"];
  const out: string[] = [];
  for (const a of lits) out.push(expr(a), expr(`(${a})|string`), expr(`(${a}) is integer`));
  const pick = picker(53);
  for (let i = 0; i < 90; i++) {
    const a = pick(lits);
    const b = pick(lits.filter((x) => x !== "0"));
    out.push(expr(`(${a}) ${pick(ops)} (${b})`));
  }
  for (const a of lits) {
    out.push(expr(`(${a}) / 3`), expr(`(${a})|abs`), expr(`(${a})|float`), expr(`-(${a})`), expr(`(${a}) == (${a}) + 0.0`), expr(`(${a}) > 2 ** 53`));
    out.push(expr(`'%d'|format(${a})`), expr(`'{:,}'.format(${a})`), expr(`[${a}]|tojson`), expr(`(${a})|filesizeformat`), expr(`(${a}) ** 2`));
  }
  for (const s of ["'12345678901234567890'", "'-9007199254740993'", "' 18446744073709551616 '", "'1_000_000_000_000_000_000'"]) out.push(expr(`${s}|int`), expr(`${s}|int + 1`));
  return out;
}

function floats(): string[] {
  const lits = ["0.1", "1e16", "1.5e300", "-0.0", "2.5", "1/3", "0.1 + 0.2", "1e-7", "123456789.125", "2 ** 0.5", "1e22", "5e-324"];
  const out: string[] = [];
  for (const a of lits) {
    out.push(expr(a), expr(`(${a})|round(2)`), expr(`(${a})|int`), expr(`(${a})|string`), expr(`'%.3g'|format(${a})`), expr(`'{:.2e}'.format(${a})`), expr(`(${a})|tojson`));
  }
  return out;
}

function strings(): string[] {
  const methods = [
    ".upper()",
    ".lower()",
    ".casefold()",
    ".title()",
    ".capitalize()",
    ".swapcase()",
    ".strip()",
    ".split()",
    ".center(15, '·')",
    ".ljust(12, '*')",
    ".zfill(12)",
    ".find('é')",
    ".count('s')",
    ".replace('', '-')",
    ".replace('a', 'ä', 1)",
    ".isalpha()",
    ".isdigit()",
    ".isnumeric()",
    ".isdecimal()",
    ".isalnum()",
    ".isspace()",
    ".islower()",
    ".isupper()",
    ".istitle()",
    ".partition(' ')",
    ".splitlines()",
    ".expandtabs(4)",
    "[1:4]",
    "[::-1]",
    "|length",
    "|upper",
    "|lower",
    "|title",
    "|capitalize",
    "|reverse",
    "|wordcount",
    "|list",
    "|center(16)",
    "|truncate(9, true, '…', 0)",
    "|urlencode",
    "|tojson",
    "|replace('', '.')",
    "|indent(2, true)",
    "|e",
    "|pprint",
  ];
  const out: string[] = [];
  for (const t of TEXTS) for (const m of methods) out.push(expr(`${t}${m}`));
  return out;
}

function dictReprs(): string[] {
  const keys = ["(1, 2)", "true", "false", "none", "1.5", "utils.date(2024, 1, 2)", "utils.datetime(2024, 1, 2, 3, 4)", "('a', (1,))", "'ü'", "-0.0", "2 ** 64"];
  const out: string[] = [];
  for (const k of keys) {
    out.push(expr(`{${k}: 'v'}`), expr(`{${k}: 1, 'x': [${k}]}`), expr(`{${k}: 1}|list`), expr(`{${k}: 1}.items()|list`), expr(`[{${k}: {${k}: none}}]`), expr(`{${k}: 1}|tojson`));
  }
  out.push(expr("{1: 'a', true: 'b', 1.0: 'c'}"), expr("{0: 'z', false: 'f'}"), expr("{(1, 2): 1}[(1, 2)]"), expr("{'a': 1}.keys()"), expr("{'a': 1}.values()"), expr("{'a': 1}.items()"));
  return out;
}

function callables(): string[] {
  const values = [
    "'abc'.upper",
    "[1].append",
    "{}.get",
    "utils.s3bucket",
    "utils.uuid",
    "utils.path",
    "utils.re",
    "utils.dateutil",
    "utils.datetime",
    "utils.datetime.now",
    "utils.re.compile('a').match",
    "utils.path.join",
    "range",
    "dict",
    "lipsum",
    "[1, 2]|map('string')",
    "[1, 2]|select",
    "[1, 2]|reverse",
    "(1, 2)|batch(1)",
    "cycler(1)",
    "joiner()",
    "namespace(a=1)",
    "utils.timedelta",
    "utils.dateutil.relativedelta.relativedelta",
    "ustart.astimezone",
  ];
  const out: string[] = [];
  for (const v of values) out.push(expr(v), expr(`[${v}]`), expr(`${v} is callable`));
  return out;
}

function filterEdges(): string[] {
  const cases = [
    "'0x1A'|int(base=0)",
    "'0o17'|int(base=0)",
    "'0b101'|int(base=0)",
    "'017'|int(base=0)",
    "'0o17'|int",
    "'0b101'|int",
    "'0x1A'|int",
    "'0o17'|int(0, 8)",
    "'0b101'|int(0, 2)",
    "'ff'|int(base=16)",
    "'z'|int(base=36)",
    "'1_0'|int",
    "'  42  '|int",
    "'4.7'|int",
    "'1e3'|int",
    "'-0x10'|int(0, 16)",
    "'١٢٣'|int",
    "'12'|int(base=1)",
    "'abc'|replace('', '-')",
    "'abc'|replace('', '-', 2)",
    "''|replace('', 'x')",
    "'aaa'|replace('a', 'b', 0)",
    "'aaa'|replace('a', 'b', -1)",
    "1234|round(-2)",
    "1250|round(-2)",
    "1350|round(-2)",
    "-1250|round(-2)",
    "1234|round(-2, 'floor')",
    "1234|round(-2, 'ceil')",
    "1234.5|round(-2)",
    "7|round(-1)",
    "15|round(-1)",
    "25|round(-1)",
    "'hello world'|truncate(3)",
    "'hello world'|truncate(4, leeway=0)",
    "'hello world'|truncate(5, true, '...', 0)",
    "'hello world'|truncate(2, true, '...', 0)",
    "'hello'|truncate(-1)",
    "'hello world foo'|truncate(11)",
    "42|urlencode",
    "4.5|urlencode",
    "none|urlencode",
    "true|urlencode",
    "{'a': 1, 'b': 'ü x'}|urlencode",
    "[('a', 1), ('b', 'c&d')]|urlencode",
    "'a b/c?ü'|urlencode",
    "'ab'|center(-3)",
    "[3, 1, 2]|sort(reverse=true)",
    "['b', 'A', 'a']|sort(case_sensitive=true)",
    "['é', 'e', 'f']|sort",
    "['b', 'A', 'a']|unique|list",
    "['b', 'A', 'a']|unique(case_sensitive=true)|list",
    "[1, 2, 3]|sum(start=0.5)",
    "[[1], [2]]|sum(start=[])",
    "'abc'|batch(2, 'x')|list",
    "[1, 2, 3]|slice(2, 0)|list",
    "'a\\nb'|indent(width='> ')",
    "'a\\n\\nb'|indent(2, blank=true)",
    "12345678|filesizeformat(true)",
    "-1|filesizeformat",
    "1e30|filesizeformat",
    "'%s-%s'|format(1, 2)",
    "'%(a)s'|format(a=1)",
    "'{0}'|format(1)",
    "[1, 2]|join(1)",
    "[1, 'a']|join",
    "'aXbXc'|split('X')",
    "{'b': 1, 'A': 2, 'a': 3}|dictsort",
    "{'b': 1, 'A': 2, 'a': 3}|dictsort(true)",
    "{'b': 1, 'A': 2, 'a': 3}|dictsort(by='value', reverse=true)",
    "'Ünïcode'|wordcount",
    "'<p>é &amp; ü</p>'|striptags",
    "'x'|float('d')",
    "'inf'|float",
    "'nan'|float",
    "'-1e400'|float",
    "'1_000.5'|float",
    "3|string|length",
    "'%c'|format(233)",
    "'abc'|attr('upper')",
    "[1, 2, 3]|batch(2)|map('sum')|list",
    "'Straße'|upper|length",
    "'aé'|tojson",
    "{'é': 1}|tojson(indent=2)",
    "'x'|list|tojson",
    "3.0|int",
    "true|int",
    "'true'|int(5)",
    "none|int(3)",
    "'3'|float + 1",
    "-0.0|abs",
    "-3|abs",
    "2.675|round(2)",
    "0.5|round",
    "1.5|round",
    "-0.5|round",
    "2.5|round(0, 'floor')",
    "-2.5|round(0, 'ceil')",
    "1e20|round(-5)",
  ];
  return cases.map(expr);
}

function rangesAndSlices(): string[] {
  const ranges = ["range(10)", "range(1, 20, 3)", "range(10, 0, -2)", "range(0)", "range(-5, 5)"];
  const slices = ["[2:5]", "[::2]", "[::-1]", "[1:]", "[:-1]", "[5:1]", "[-3:]", "[1:8:3]"];
  const out: string[] = [];
  for (const r of ranges) {
    for (const s of slices) out.push(expr(`${r}${s}`), expr(`${r}${s}|list`));
    out.push(expr(`${r}|length`), expr(`${r}[-1] if ${r}|length else 'e'`), expr(`3 in ${r}`), expr(`${r}|reverse|list`), expr(`${r} == ${r}`), expr(`${r}|sum`));
  }
  out.push(expr("range(3)[5]"), expr("range(0, 10, 0)"), expr("range(2 ** 60)|length"), expr("range(3) == [0, 1, 2]"), expr("range(3)[1:][0]"), expr("range(3)|tojson"));
  return out;
}

function datetimes(): string[] {
  const values = [
    "start",
    "ustart",
    "dt",
    "globals.lava.master_ustart",
    "utils.datetime(2024, 7, 1, 12, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney'))",
    "utils.datetime(2024, 1, 1, tzinfo=utils.dateutil.tz.gettz('Europe/London'))",
    "utils.datetime(2024, 7, 1, tzinfo=utils.dateutil.tz.gettz('Europe/London'))",
    "utils.datetime(2024, 3, 10, 12, tzinfo=utils.dateutil.tz.tzutc())",
    "utils.datetime(2024, 3, 10, 12, tzinfo=utils.dateutil.tz.tzoffset(None, 19800))",
    "utils.datetime(2024, 3, 10, 12, tzinfo=utils.dateutil.tz.tzoffset('EST', -18000))",
    "utils.parsedate.parse('2024-05-06T07:08:09+05:30')",
    "utils.parsedate.parse('2024-05-06T07:08:09Z')",
  ];
  const methods = [
    ".utcoffset()",
    ".tzname()",
    ".dst()",
    ".fold",
    ".timetuple()",
    ".utctimetuple()",
    ".tzinfo",
    ".tzinfo.utcoffset(none) if false else ''",
    ".isoformat(timespec='minutes')",
    ".timetz()",
    ".time()",
    ".astimezone(utils.dateutil.tz.tzutc())",
    ".replace(tzinfo=none)",
    ".weekday()",
    ".isocalendar()",
    ".ctime()",
    ".toordinal()",
    "|string",
  ];
  const out: string[] = [];
  for (const v of values) for (const m of methods) out.push(expr(`${v}${m}`));
  const tzs = ["utils.dateutil.tz.gettz('Australia/Sydney')", "utils.dateutil.tz.tzutc()", "utils.dateutil.tz.tzlocal()", "utils.dateutil.tz.tzoffset(None, 3600)", "utils.dateutil.tz.UTC"];
  const at = ["utils.datetime(2024, 1, 15)", "utils.datetime(2024, 7, 15)"];
  for (const z of tzs) {
    out.push(expr(z), expr(`[${z}]`));
    for (const a of at) out.push(expr(`${z}.utcoffset(${a})`), expr(`${z}.tzname(${a})`), expr(`${z}.dst(${a})`));
  }
  out.push(
    expr("utils.time.min"),
    expr("utils.time.max"),
    expr("utils.datetime.min"),
    expr("utils.datetime.max"),
    expr("utils.date.min"),
    expr("utils.date.max"),
    expr("utils.timedelta.max"),
    expr("utils.timedelta.min"),
    expr("utils.timedelta.resolution"),
    expr("utils.time(1, 2, 3, 4).isoformat()"),
    expr("utils.time(12, fold=1).fold"),
    expr("utils.time(12, fold=1)"),
    expr("utils.datetime(2024, 4, 7, 2, 30, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney'), fold=1).utcoffset()"),
    expr("utils.datetime(2024, 4, 7, 2, 30, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney')).utcoffset()"),
    expr("utils.datetime(2024, 10, 6, 2, 30, tzinfo=utils.dateutil.tz.gettz('Australia/Sydney'), fold=1).utcoffset()"),
    expr("utils.datetime(2024, 4, 6, 15, 30, tzinfo=utils.dateutil.tz.tzutc()).astimezone(utils.dateutil.tz.gettz('Australia/Sydney')).fold"),
    expr("utils.datetime(2024, 4, 6, 16, 30, tzinfo=utils.dateutil.tz.tzutc()).astimezone(utils.dateutil.tz.gettz('Australia/Sydney'))"),
    expr("utils.datetime(2024, 4, 6, 16, 30, tzinfo=utils.dateutil.tz.tzutc()).astimezone(utils.dateutil.tz.gettz('Australia/Sydney')).replace(fold=0).utcoffset()"),
    expr("utils.datetime(2024, 1, 1, fold=2)"),
    expr("utils.datetime(2024, 1, 1).timetuple().tm_yday"),
    expr("utils.datetime(2024, 1, 1).timetuple()[0]"),
    expr("utils.time(1, 2) < utils.time.max"),
  );
  return out;
}

function dateutils(): string[] {
  const texts = [
    "'2024-03-15'",
    "'15.03.2024'",
    "'2024.03.15'",
    "'03.15.2024'",
    "'Friday'",
    "'Monday'",
    "'Thu'",
    "'March'",
    "'15 March'",
    "'2024'",
    "'10:30'",
    "'10:30 PM'",
    "'Jan 5 2024 10:00 +0100'",
    "'Tue, 05 Mar 2024 10:00:00 GMT'",
    "'2024-03-15T09:30:00.5-0300'",
    "'20240315'",
    "'20240315T093000'",
    "'5th of March 2024'",
    "'March 5th, 2024 at 3pm'",
    "'today is 2024-03-15 ok'",
    "'not a date'",
    "'12/11/10'",
    "'31/12/2024'",
    "'2024-02-30'",
  ];
  const out: string[] = [];
  const dflt = "default=utils.datetime(2020, 6, 1)";
  for (const t of texts) {
    out.push(
      expr(`utils.parsedate.parse(${t}, ${dflt})`),
      expr(`utils.parsedate.parse(${t}, ${dflt}, dayfirst=true)`),
      expr(`utils.parsedate.parse(${t}, ${dflt}, fuzzy=true)`),
      expr(`utils.parsedate.parse(${t}, ${dflt}, yearfirst=true)`),
    );
  }
  const rds = [
    "months=14",
    "days=45, hours=30",
    "years=1, months=-3",
    "hours=49, minutes=130",
    "days=1.5",
    "months=+1, day=31",
    "weeks=3",
    "seconds=-90000",
    "microseconds=2500000",
    "years=-1, months=25, days=-40",
  ];
  const rd = (a: string): string => `utils.dateutil.relativedelta.relativedelta(${a})`;
  for (const a of rds) {
    out.push(expr(rd(a)), expr(`${rd(a)}.normalized()`), expr(`-${rd(a)}`), expr(`${rd(a)} * 2`), expr(`utils.datetime(2024, 1, 31) + ${rd(a)}`), expr(`${rd(a)}.months`), expr(`bool(${rd(a)}) if false else ${rd(a)} == ${rd(a)}`));
  }
  out.push(
    expr(rd("dt1=utils.datetime(2024, 3, 15), dt2=utils.datetime(2020, 1, 31)")),
    expr(rd("utils.date(2024, 3, 1), utils.date(2024, 1, 31)")),
    expr(rd("weekday=utils.dateutil.relativedelta.FR(-1)")),
    expr(`utils.date(2024, 3, 15) + ${rd("weekday=utils.dateutil.relativedelta.MO(+2)")}`),
  );
  return out;
}

function paths(): string[] {
  const ps = ["'a/b/c.txt'", "'/x/y/../z'", "'./a//b/'", "''", "'/'", "'..'", "'/é/ü.tar.gz'", "'a/./b/../../c'"];
  const out: string[] = [];
  for (const p of ps) {
    for (const f of ["basename", "dirname", "split", "splitext", "normpath", "isabs", "abspath"]) out.push(expr(`utils.path.${f}(${p})`));
    out.push(expr(`utils.path.join(${p}, 'q', '/r', 's')`));
    for (const q of ["'/x'", "'a'", "'a/b/d'"]) out.push(expr(`utils.path.relpath(${p}, ${q})`));
  }
  for (const args of ["['/a/b/c', '/a/b/d']", "['a/b', 'a/c/d']", "['/a', 'a']", "[]", "['/usr/lib', '/usr/local/lib', '/usr']", "['a//b/', 'a/b']", "['/é/x', '/é/y']"]) out.push(expr(`utils.path.commonpath(${args})`), expr(`utils.path.commonprefix(${args})`));
  out.push(expr("utils.path.relpath('')"), expr("utils.path.relpath('a', '')"), expr("utils.path.relpath('/a/b')"), expr("utils.path.join()"), expr("utils.path.join('a')"), expr("utils.path.basename(5)"));
  return out;
}

function regexes(): string[] {
  const patterns = ["'[^\\\\W\\\\d]+'", "'[\\\\W\\\\d]+'", "'[^\\\\S]+'", "'[a\\\\S]+'", "'\\\\w+'", "'\\\\d+'", "'\\\\s+'", "'\\\\b\\\\w'", "'\\\\W+'", "'\\\\D+'", "'\\\\S+'", "'[\\\\w-]+'", "'(?i)straSSe'", "'\\\\w\\\\b'", "'[^\\\\d\\\\s]+'"];
  const texts = ["'héllo wörld'", "'Straße 12'", "'١٢٣ abc ٤٥'", "'日本語 テキスト'", "'a\\u00a0b\\u2003c'", "'naïve_café-9'", "'ǅ ǆ ΣΑΣ'"];
  const out: string[] = [];
  for (const p of patterns) {
    for (const t of texts) out.push(expr(`utils.re.findall(${p}, ${t})`));
    out.push(expr(`utils.re.sub(${p}, '#', 'Ünï 42 x_y')`), expr(`utils.re.split(${p}, 'Ünï 42 x_y')`));
  }
  const m = "utils.re.match('(?P<w>\\\\w+) (?P<n>\\\\d+)', 'Ünï 42')";
  out.push(
    expr(`${m}.lastgroup`),
    expr(`${m}.lastindex`),
    expr(`${m}['w']`),
    expr(`${m}[0]`),
    expr(`${m}.groupdict()`),
    expr(`${m}.span('n')`),
    expr(`${m}.start(2)`),
    expr(`${m}.groups()`),
    expr(`${m}.re.pattern`),
    expr(`${m}.string`),
    expr(`${m}.pos`),
    expr(`${m}['lastgroup'] if false else 1`),
    expr(`[${m}, ${m}]|map(attribute='lastgroup')|list`),
    expr(`[${m}]|map(attribute='lastindex')|list`),
    expr(`[${m}]|map(attribute='string')|list`),
    expr(`[${m}]|map(attribute='w')|list`),
    expr(`[${m}]|map(attribute='0')|list`),
    expr(`${m}.expand('\\\\g<n>-\\\\1')`),
    expr(`utils.re.search('\\\\d', 'x١y').group()`),
    expr(`utils.re.compile('\\\\w+', utils.re.ASCII).findall('héllo')`),
    expr(`utils.re.findall('(?a)\\\\w+', 'héllo')`),
    expr(`utils.re.fullmatch('\\\\w+', 'Straße') is not none`),
    expr(`utils.re.escape('a.b*ü')`),
    expr(`utils.re.match('((a)b)', 'ab').lastindex`),
    expr(`utils.re.match('(?P<o>(?P<i>a)b)', 'ab').lastgroup`),
    expr(`utils.re.match('(a)(b)?', 'a').lastindex`),
    expr(`utils.re.match('(a)|(b)', 'b').lastindex`),
    expr(`utils.re.match('a', 'a').lastgroup`),
    expr(`utils.re.IGNORECASE`),
    expr(`utils.re.findall('ß', 'STRASSE', utils.re.I)`),
    expr(`utils.re.findall('[a-z]+', 'ÅB ab', utils.re.I)`),
  );
  return out;
}

function arity(): string[] {
  const calls = [
    "utils.s3bucket()",
    "utils.s3bucket('a/b', 'c')",
    "utils.s3key()",
    "utils.s3key('s3://b/k', 1)",
    "utils.uuid(1)",
    "utils.uuid()|string|length",
    "utils.s3bucket(s='s3://b/k')",
    "utils.s3bucket(x='s3://b/k')",
    "utils.path.basename()",
    "utils.path.basename('a', 'b')",
    "utils.path.join()",
    "utils.path.splitext('a', 'b')",
    "utils.re.compile()",
    "utils.re.sub('a', 'b')",
    "utils.re.match('a')",
    "utils.timedelta(1, 2, 3, 4, 5, 6, 7, 8)",
    "utils.date(2024)",
    "utils.datetime()",
    "utils.datetime.now(1, 2)",
    "utils.parsedate.parse()",
    "utils.dateutil.tz.gettz('a', 'b')",
    "utils.s3bucket(none)",
    "utils.s3key(5)",
    "utils.s3bucket('')",
    "utils.s3key('s3://b')",
  ];
  return calls.map(expr);
}

/** Every generated case by category name. */
export function generatedCases(): Record<string, string[]> {
  const seen = new Set<string>();
  const unique = (xs: string[]): string[] => xs.filter((x) => !seen.has(x) && seen.add(x));
  const groups: Record<string, string[]> = {
    integers: integers(),
    floats: floats(),
    strings: strings(),
    "dict reprs": dictReprs(),
    callables: callables(),
    "filter edges": filterEdges(),
    "ranges and slices": rangesAndSlices(),
    "datetime and tzinfo": datetimes(),
    dateutil: dateutils(),
    "os.path": paths(),
    re: regexes(),
    "utils arity": arity(),
  };
  return Object.fromEntries(Object.entries(groups).map(([name, cases]) => [name, unique(cases)]));
}
