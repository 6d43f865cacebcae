#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""gen-man.py: build the manual pages into one directory, ready to install.

    gen-man.py --version VERSION --out DIR [--top TOP]

TOP (default: the tree this script is in) holds man/, uapi/ and kmod/.
DIR gets man1/, man3/ and man4/:

  - man/man1/*.1 and man/man3/*.3 are copied with @VERSION@ replaced;
  - man4/objheap.4 is man/man4/objheap.4.in with its @...@ lines replaced
    by what uapi/linux/objheap.h and the module_param()s of kmod/*.c say:
    the header's kernel-doc comments (DOC: sections, structures, enums)
    and the comments of its constants become the ioctl reference, so that
    the page says what the header says;
  - every name in the NAME section of a man3 page other than the page's
    own gets a page of its own that is a .so link to it, so that
    `man objheap_write` finds objheap_read(3).

The header is parsed strictly: a line the parser does not understand is
an error, as is an ioctl that no structure's comment describes.  DIR is
built in a temporary directory beside it and renamed into place, so a
failure leaves no half-made tree.  Python 3 standard library only.
"""

import argparse
import errno
import os
import re
import shutil
import sys
import tempfile

# ---- the header --------------------------------------------------------


class Doc:
    """A DOC: section: a chapter of the reference."""

    def __init__(self, title, body):
        self.title = title
        self.body = body
        self.items = []


class Item:
    """A structure or an enum, with its kernel-doc comment."""

    def __init__(self, kind, name, summary, fields, body, code):
        self.kind = kind
        self.name = name
        self.summary = summary
        self.fields = fields
        self.body = body
        self.code = code
        self.ioctls = []
        self.consts = []


class Consts:
    """#defines of constants, with the plain comment before them, if any."""

    def __init__(self, comment, defines):
        self.comment = comment
        self.defines = defines


class CmdEnum:
    """The anonymous enum of command numbers."""

    def __init__(self, code):
        self.code = code


class ParseError(Exception):
    pass


def comment_text(lines):
    """The text of a comment's lines, without the comment's markup."""
    out = []
    for line in lines:
        line = line.rstrip()
        line = re.sub(r'^\s*/\*\*?\s?', '', line)
        line = re.sub(r'\s*\*/$', '', line)
        line = re.sub(r'^\s*\*( |$)', '', line)
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def parse_kerneldoc(text, lineno):
    """Split a structure's or enum's comment: summary, @fields, body."""
    m = re.match(r'(struct|enum) (\w+) - (.*)$', text[0])
    if not m:
        raise ParseError('line %d: not a kernel-doc heading: %s' %
                         (lineno, text[0]))
    kind, name, summary = m.group(1), m.group(2), [m.group(3)]
    i = 1
    while i < len(text) and text[i].strip() and \
            not text[i].lstrip().startswith('@'):
        summary.append(text[i].strip())
        i += 1
    fields = []
    while i < len(text) and text[i].strip():
        fm = re.match(r'\s*@(\w+):\s*(.*)$', text[i])
        if fm:
            fields.append((fm.group(1), [fm.group(2)]))
        elif fields:
            fields[-1][1].append(text[i].strip())
        else:
            raise ParseError('line %d: text before the first @field' %
                             (lineno + i))
        i += 1
    body = text[i:]
    while body and not body[0].strip():
        body.pop(0)
    return kind, name, ' '.join(summary), fields, body


def logical_lines(lines, i):
    """The line at @i joined with its backslash continuations, and the next."""
    line = lines[i].rstrip('\n')
    i += 1
    while line.endswith('\\') and i < len(lines):
        line = line[:-1].rstrip() + ' ' + lines[i].strip()
        i += 1
    return line, i


DEFINE = re.compile(r'#define\s+(\w+(?:\(\w*\))?)\s+(.*?)\s*$')
IOCTL = re.compile(r'_IO\(OBJHEAP_TYPE,\s*OBJHEAP_CMD_(\w+)\)$')


def parse_header(path):
    """The header as a list of chapters (Doc), each with its items."""
    with open(path, encoding='ascii') as f:
        lines = f.readlines()
    chapters = []
    pending = []        # items before the first DOC: section
    i = 0

    def add(item):
        (chapters[-1].items if chapters else pending).append(item)

    def defines_after(i):
        """#define lines from @i on: [(name, value, lineno)], next index."""
        out = []
        while i < len(lines) and lines[i].startswith('#define'):
            line, j = logical_lines(lines, i)
            m = DEFINE.match(line)
            if not m:
                raise ParseError('line %d: unparsed #define' % (i + 1))
            out.append((m.group(1), m.group(2), i + 1))
            i = j
        return out, i

    while i < len(lines):
        line = lines[i].rstrip('\n')
        start = i + 1
        if not line.strip() or line.startswith('#include') or \
                line.startswith('#ifndef _UAPI_LINUX_OBJHEAP_H') or \
                line.startswith('#define _UAPI_LINUX_OBJHEAP_H') or \
                line.startswith('#endif /* _UAPI_LINUX_OBJHEAP_H'):
            i += 1
            continue
        if line.startswith('/*'):
            j = i
            while '*/' not in lines[j]:
                j += 1
            text = comment_text(lines[i:j + 1])
            i = j + 1
            if line.startswith('/**'):
                if text[0].startswith('DOC: '):
                    chapters.append(Doc(text[0][5:].strip(), text[1:]))
                    if pending:
                        chapters[-1].items.extend(pending)
                        pending = []
                    continue
                kind, name, summary, fields, body = \
                    parse_kerneldoc(text, start)
                code = []
                opener = '%s %s {' % (kind, name)
                if lines[i].rstrip() != opener:
                    raise ParseError('line %d: %s does not follow its '
                                     'comment' % (i + 1, opener))
                while True:
                    code.append(lines[i].rstrip('\n'))
                    i += 1
                    if code[-1] == '};':
                        break
                item = Item(kind, name, summary, fields, body, code)
                defines, i = defines_after(i)
                for dname, value, dline in defines:
                    m = IOCTL.match(value)
                    if m:
                        if dname != 'OBJHEAP_' + m.group(1):
                            raise ParseError('line %d: %s is not '
                                             'OBJHEAP_CMD_%s' %
                                             (dline, dname, dname[8:]))
                        item.ioctls.append(dname)
                    else:
                        item.consts.append((dname, value))
                add(item)
                continue
            defines, i = defines_after(i)
            if defines:
                add(Consts(text, [(n, v) for n, v, _ in defines]))
            elif chapters or pending:
                raise ParseError('line %d: a comment that describes '
                                 'nothing' % start)
            continue
        if line.startswith('#define'):
            defines, i = defines_after(i)
            if any(IOCTL.match(v) for _, v, _ in defines):
                raise ParseError('line %d: an ioctl with no structure' % start)
            add(Consts([], [(n, v) for n, v, _ in defines]))
            continue
        if line == 'enum {':
            code = []
            while True:
                code.append(lines[i].rstrip('\n'))
                i += 1
                if code[-1] == '};':
                    break
            add(CmdEnum(code))
            continue
        raise ParseError('line %d: not understood: %s' % (start, line))
    if pending:
        raise ParseError('no DOC: section')
    return chapters


def header_ioctls(path):
    """Every ioctl request the header defines, in order."""
    with open(path, encoding='ascii') as f:
        text = f.read().replace('\\\n', ' ')
    return re.findall(r'^#define\s+(OBJHEAP_\w+)\s+_IO\(', text, re.M)


# ---- text to roff ----------------------------------------------------------

# Sections of the functions and files the comments name as name().
MAN_SECTIONS = {
    'open': 2, 'close': 2, 'read': 2, 'write': 2, 'ioctl': 2, 'poll': 2,
    'select': 2, 'mmap': 2, 'munmap': 2, 'mprotect': 2, 'mremap': 2,
    'lseek': 2, 'pread': 2, 'fork': 2, 'exit': 3,
}
ERRNOS = {name for name in dir(errno) if re.fullmatch(r'E[A-Z0-9]+', name)}

INLINE = r'''
    ``(?P<lit>.+?)``
  | (?<![\w*])\*(?P<em>\w(?:[\w' -]*\w)?)\*(?![\w*])
  | @(?P<field>\w+)
  | DOC:\ (?P<doc>%s)
  | (?P<struct>\bstruct\ objheap_\w+)
  | (?P<func>\b[A-Za-z_][\w.]*)\(\)
  | (?P<const>\b(?:OBJHEAP|O|MAP|PROT|CAP|SCM|EPOLL|SA|FD|VM)_[A-Z0-9_]+
               (?:\(\w*\))?)
  | (?<![\w])(?P<abbr>_[A-Z][A-Z0-9_]+)\b
  | (?P<word>\b[A-Z][A-Z0-9]+\b)
  | (?P<minus>(?<![A-Za-z0-9])-(?=[0-9]|E[A-Z]))
'''


def esc(text):
    """Escape text for roff, outside any macro argument."""
    return text.replace('\\', '\\e')


def plain_minus(text):
    return re.sub(r'(?<![A-Za-z0-9])-(?=[0-9]|E[A-Z])', r'\\-', esc(text))


class Formatter:
    def __init__(self, doc_titles):
        titles = '|'.join(re.escape(t).replace('\\ ', ' ')
                          for t in sorted(doc_titles, key=len, reverse=True))
        self.re = re.compile(INLINE % titles.replace(' ', '\\ '), re.X)

    def inline(self, text):
        """Comment text as roff, with fonts for the names it holds."""
        out = []
        pos = 0
        for m in self.re.finditer(text):
            out.append(esc(text[pos:m.start()]))
            pos = m.end()
            kind = m.lastgroup
            val = m.group(kind)
            if kind == 'lit':
                font = 'I' if re.fullmatch(r'[a-z_][a-z0-9_]*', val) else 'B'
                out.append('\\f%s%s\\fP' % (font, plain_minus(val)))
            elif kind == 'em':
                out.append('\\fI%s\\fP' % esc(val))
            elif kind == 'field':
                out.append('\\fI%s\\fP' % val)
            elif kind == 'doc':
                out.append('\\fI%s\\fP' % val)
            elif kind == 'struct':
                out.append('\\fI%s\\fP' % val)
            elif kind == 'func':
                sec = MAN_SECTIONS.get(val)
                out.append('\\fB%s\\fP%s' % (esc(val), '(%d)' % sec
                                             if sec else '()'))
            elif kind in ('const', 'abbr'):
                out.append('\\fB%s\\fP' % val)
            elif kind == 'word':
                out.append('\\fB%s\\fP' % val if val in ERRNOS or
                           val.startswith(('SIG', 'EPOLL')) else val)
            elif kind == 'minus':
                out.append('\\-')
        out.append(esc(text[pos:]))
        return ''.join(out).strip()

    def text(self, lines):
        """Lines of comment text as roff source, one sentence a line."""
        joined = ''
        for line in lines:
            line = line.strip()
            if not line:
                continue
            if joined:
                joined += '  ' if joined.endswith('.') else ' '
            joined += line
        out = []
        for sentence in re.split(r'(?<=\S)\s{2,}', self.inline(joined)):
            if sentence.startswith(('.', "'")):
                sentence = '\\&' + sentence
            out.append(sentence)
        return [line for line in out if line]

    def paragraphs(self, lines, nested):
        """Paragraphs and "- " lists of comment text.

        At the top of a chapter (@nested false) paragraphs are .PP; inside
        an item they are .IP, and lists go in .RS/.RE.
        """
        out = []
        paras = []
        cur = []
        for line in lines + ['']:
            if line.strip():
                cur.append(line)
            elif cur:
                paras.append(cur)
                cur = []
        for para in paras:
            if not para[0].lstrip().startswith('- '):
                out.append('.IP' if nested else '.PP')
                out.extend(self.text(para))
                continue
            items = []
            for line in para:
                if line.lstrip().startswith('- '):
                    items.append([line.lstrip()[2:]])
                else:
                    items[-1].append(line)
            if nested:
                out.append('.RS')
            for item in items:
                m = re.match(r'(E[A-Z0-9]+): (.*)$', item[0])
                if m and m.group(1) in ERRNOS:
                    out.extend(['.TP', '.B ' + m.group(1)])
                    out.extend(self.text([m.group(2)] + item[1:]))
                else:
                    out.append('.IP \\(bu 3')
                    out.extend(self.text(item))
            if nested:
                out.append('.RE')
        return out


def number(value):
    """The value of a constant's expression, or None."""
    expr = re.sub(r'(?<=[0-9a-fA-F])[uUlL]+\b', '', value)
    if not re.fullmatch(r'[0-9a-fA-Fx()<> |+*-]+', expr):
        return None
    try:
        return int(eval(expr, {'__builtins__': {}}))  # digits and operators
    except (SyntaxError, ValueError, TypeError):
        return None


def describe_value(name, value):
    """"= value", with the number it makes when that says more."""
    n = number(value)
    shown = value
    if n is not None and str(n) != value:
        shown = '%s = %d' % (value, n)
        for unit, shift in (('GiB', 30), ('MiB', 20), ('KiB', 10)):
            if re.search(r'SIZE|LEN|BYTES|CHUNK', name) and \
                    n >= 1 << shift and n % (1 << shift) == 0:
                shown += ' (%d %s)' % (n >> shift, unit)
                break
    return '= ' + shown


def quote_arg(text):
    """@text as one argument of a macro."""
    return '"%s"' % esc(text).replace('"', '\\(dq')


def const_entries(fmt, consts):
    """A constant group: its names and values, then its comment.

    A group with a comment is one tagged paragraph; one without is a plain
    paragraph of its definitions, which the text around them explains.
    """
    body = fmt.text(consts.comment)
    out = [] if body else ['.PP']
    for k, (name, value) in enumerate(consts.defines):
        if body:
            out.append('.TQ' if k else '.TP')
        elif k:
            out.append('.br')
        value = quote_arg(' ' + describe_value(name, value))
        out.append('.BR %s %s' % (name, value))
    return out + body


def code_block(code, indent):
    """Verbatim code: indented further at the top of a chapter."""
    out = ['.PP', '.in +4n', '.EX'] if indent else ['.IP', '.EX']
    for line in code:
        line = line.replace('\t', '    ')
        line = esc(line)
        if line.startswith(('.', "'")):
            line = '\\&' + line
        out.append(line)
    out.append('.EE')
    if indent:
        out.append('.in')
    return out


def render_item(fmt, item):
    out = ['.TP']
    if item.ioctls:
        for k, name in enumerate(item.ioctls):
            if k:
                out.append('.TQ')
            out.append('.B ' + name)
        out.append('The argument points to a')
        out.append('.IR "struct %s" .' % item.name)
        if not re.fullmatch(r'(ioctl)?\(OBJHEAP_\w+\)(,? (and )?'
                            r'(ioctl)?\(OBJHEAP_\w+\))*', item.summary):
            out.append(fmt.inline(item.summary.rstrip('.') + '.'))
    else:
        out.append('.B %s %s' % (item.kind, item.name))
        out.append(fmt.inline(item.summary.rstrip('.') + '.'))
    if item.kind == 'struct':
        out.extend(code_block(item.code, indent=False))
        if item.fields:
            out.append('.RS')
            for name, text in item.fields:
                out.extend(['.TP', '.I ' + name])
                out.extend(fmt.text(text))
            out.append('.RE')
    else:
        values = {}
        for line in item.code[1:-1]:
            m = re.match(r'\s*(\w+)\s*=\s*(.*?),?\s*$', line)
            if not m:
                raise ParseError('enum %s: unparsed member: %s' %
                                 (item.name, line))
            values[m.group(1)] = m.group(2)
        doc = dict(item.fields)
        if set(doc) - set(values):
            raise ParseError('enum %s: @%s is no member' %
                             (item.name, sorted(set(doc) - set(values))[0]))
        out.append('.RS')
        for name, value in values.items():
            out.extend(['.TP', '.BR %s %s' % (name, quote_arg(' = ' + value))])
            out.extend(fmt.text(doc.get(name, ['(Not described.)'])))
        out.append('.RE')
    out.extend(fmt.paragraphs(item.body, nested=True))
    if item.consts:
        out.append('.RS')
        out.extend(const_entries(fmt, Consts([], item.consts)))
        out.append('.RE')
    return out


CMDENUM_TEXT = r'''.PP
Every request is
\fB_IO(OBJHEAP_TYPE,\ OBJHEAP_CMD_\fP\fIname\fP\fB)\fP
for the command \fBOBJHEAP_\fP\fIname\fP:
the size of its structure travels in the
.I size
field, not in the request.
The command numbers below are also the
.I cmd
of a batch entry (see \fIBatches\fP), and command
.I c
is supported when bit
.I c
\- \fBOBJHEAP_CMD_BASE\fP of \fIout_cmds\fP of \fBOBJHEAP_QUERY\fP is set.'''


def render_reference(chapters, fmt):
    out = []
    for doc in chapters:
        out.append('.SS ' + doc.title)
        out.extend(fmt.paragraphs(doc.body, nested=False))
        for item in doc.items:
            if isinstance(item, Item):
                out.extend(render_item(fmt, item))
            elif isinstance(item, Consts):
                out.extend(const_entries(fmt, item))
            else:
                out.extend(CMDENUM_TEXT.split('\n'))
                out.extend(code_block(item.code, indent=True))
    return out


def render_limits(chapters, fmt):
    """The bounds among the constants: their values and comments."""
    out = []
    for doc in chapters:
        for item in doc.items:
            groups = []
            if isinstance(item, Consts):
                groups.append(item)
            elif isinstance(item, Item) and item.consts:
                names = item.ioctls or ['struct ' + item.name]
                see = ' and '.join([', '.join(names[:-1]), names[-1]]
                                   if len(names) > 1 else names)
                groups.append(Consts(['See %s.' % see], item.consts))
            for group in groups:
                bounds = [(n, v) for n, v in group.defines
                          if re.search(r'_MAX|_CHUNK', n)]
                if not bounds:
                    continue
                comment = group.comment or ['See DOC: %s.' % doc.title]
                out.extend(const_entries(fmt, Consts(comment, bounds)))
    return out


# ---- module parameters -------------------------------------------------

PARAM_TYPES = {'uint': 'unsigned int', 'ullong': 'unsigned long long',
               'int': 'int', 'ulong': 'unsigned long', 'bool': 'bool',
               'charp': 'string'}


def module_params(kmod_dir):
    params = []
    descs = {}
    for name in sorted(os.listdir(kmod_dir)):
        if not name.endswith('.c'):
            continue
        with open(os.path.join(kmod_dir, name), encoding='utf-8') as f:
            text = f.read()
        for m in re.finditer(r'^module_param\((\w+),\s*(\w+),\s*(0[0-7]+)\);',
                             text, re.M):
            params.append((m.group(1), m.group(2), int(m.group(3), 8), name))
        for m in re.finditer(r'^MODULE_PARM_DESC\((\w+),\s*((?:"(?:[^"\\]|'
                             r'\\.)*"\s*)+)\);', text, re.M):
            descs[m.group(1)] = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"',
                                                   m.group(2)))
    if not params:
        raise ParseError('no module_param() in %s' % kmod_dir)
    return params, descs


def render_params(params, descs, fmt):
    out = []
    for name, ptype, perm, src in sorted(params):
        if name not in descs:
            raise ParseError('%s: module_param %s has no MODULE_PARM_DESC' %
                             (src, name))
        out.extend(['.TP', '.BR %s " (%s)"' % (name, PARAM_TYPES.get(ptype,
                                                                   ptype))])
        out.append(fmt.inline(descs[name].rstrip('.') + '.'))
        if perm & 0o222:
            out.append('Root may change it at run time in')
            out.append('.IR /sys/module/objheap/parameters/%s .' % name)
        else:
            out.append('It is set when the module is loaded, and is read-only')
            out.append('in')
            out.append('.IR /sys/module/objheap/parameters/%s .' % name)
    return out


# ---- the pages ---------------------------------------------------------


def objheap4(top, version):
    header = os.path.join(top, 'uapi/linux/objheap.h')
    chapters = parse_header(header)
    fmt = Formatter([doc.title for doc in chapters])
    documented = [n for doc in chapters for it in doc.items
                  if isinstance(it, Item) for n in it.ioctls]
    missing = [n for n in header_ioctls(header) if n not in documented]
    if missing:
        raise ParseError('ioctls no structure describes: ' +
                         ', '.join(missing))
    params, descs = module_params(os.path.join(top, 'kmod'))
    parts = {
        '@REFERENCE@': render_reference(chapters, fmt),
        '@LIMITS@': render_limits(chapters, fmt),
        '@PARAMETERS@': render_params(params, descs, fmt),
    }
    out = ['.\\" Generated by scripts/gen-man.py from man/man4/objheap.4.in,',
           '.\\" uapi/linux/objheap.h and kmod/*.c: edit those, not this.']
    with open(os.path.join(top, 'man/man4/objheap.4.in'),
              encoding='ascii') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.strip() in parts:
                out.extend(parts.pop(line.strip()))
            else:
                out.append(line.replace('@VERSION@', version))
    if parts:
        raise ParseError('objheap.4.in lacks ' + ', '.join(sorted(parts)))
    return '\n'.join(out) + '\n'


def page_names(path):
    """The names the NAME section of a page gives, and its own name."""
    with open(path, encoding='ascii') as f:
        lines = f.read().split('\n')
    try:
        i = lines.index('.SH NAME')
    except ValueError:
        raise ParseError('%s: no .SH NAME' % path)
    text = []
    for line in lines[i + 1:]:
        if line.startswith('.SH'):
            break
        text.append(line)
    names = ' '.join(text).split('\\-')[0]
    return [n.strip().replace('\\%', '') for n in names.split(',')
            if n.strip()]


def build(top, version, outdir):
    parent = os.path.dirname(os.path.abspath(outdir)) or '.'
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.man-', dir=parent)
    try:
        for sec in ('1', '3', '4'):
            os.mkdir(os.path.join(tmp, 'man' + sec))
        for sec in ('1', '3'):
            src = os.path.join(top, 'man', 'man' + sec)
            for name in sorted(os.listdir(src) if os.path.isdir(src) else []):
                if not name.endswith('.' + sec):
                    continue
                with open(os.path.join(src, name), encoding='ascii') as f:
                    text = f.read()
                with open(os.path.join(tmp, 'man' + sec, name), 'w',
                          encoding='ascii') as f:
                    f.write(text.replace('@VERSION@', version))
        with open(os.path.join(tmp, 'man4', 'objheap.4'), 'w',
                  encoding='ascii') as f:
            f.write(objheap4(top, version))
        man3 = os.path.join(tmp, 'man3')
        pages = sorted(os.listdir(man3))
        for page in pages:
            for name in page_names(os.path.join(man3, page)):
                link = os.path.join(man3, name + '.3')
                if name + '.3' == page:
                    continue
                if os.path.exists(link):
                    raise ParseError('%s is named by %s and by another page' %
                                     (name, page))
                with open(link, 'w', encoding='ascii') as f:
                    f.write('.so man3/%s\n' % page)
        if os.path.exists(outdir):
            shutil.rmtree(outdir)
        os.rename(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--version', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--top', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..'))
    args = ap.parse_args()
    try:
        build(args.top, args.version, args.out)
    except (ParseError, OSError) as e:
        print('gen-man.py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
