//! The error a Prometheus scrape reports for a body that does not parse: the words of
//! Prometheus's `model/textparse` parsers (`PromParser` for the classic text format), which
//! differ from `expfmt`'s (what `promtool check metrics` and [`crate::parse_text`] say).
//!
//! [`prometheus_error`] replays the body through a state machine that follows the lexer
//! Prometheus generates from `promlex.l` (a DFA without backtracking: a failed token ends
//! where the machine stopped) and the grammar of `PromParser.Next`, and returns the first
//! error with Prometheus's wording: `expected a valid start token, got "<" ("INVALID") while
//! parsing: "<"`. It only validates (no samples are built), so it is cheap enough for the
//! error path of a scrape.

use crate::negotiate::FormatKind;
use crate::parse::go_quote_bytes;

/// The error Prometheus's scrape parser reports for `input` in `kind`, or `None` if that
/// parser accepts it (or, for a format this module does not replay, cannot tell).
pub fn prometheus_error(input: &[u8], kind: FormatKind) -> Option<String> {
    match kind {
        FormatKind::Text => prom_error(input),
        FormatKind::OpenMetrics => om_error(input),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Invalid,
    Eof,
    Linebreak,
    Whitespace,
    Help,
    Type,
    Text,
    Comment,
    MName,
    QString,
    BraceOpen,
    BraceClose,
    LName,
    LValue,
    Comma,
    Equal,
    Timestamp,
    Value,
    Unit,
    EofWord,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::Invalid => "INVALID",
            Tok::Eof => "EOF",
            Tok::Linebreak => "LINEBREAK",
            Tok::Whitespace => "WHITESPACE",
            Tok::Help => "HELP",
            Tok::Type => "TYPE",
            Tok::Text => "TEXT",
            Tok::Comment => "COMMENT",
            Tok::MName => "MNAME",
            Tok::QString => "QSTRING",
            Tok::BraceOpen => "BOPEN",
            Tok::BraceClose => "BCLOSE",
            Tok::LName => "LNAME",
            Tok::LValue => "LVALUE",
            Tok::Comma => "COMMA",
            Tok::Equal => "EQUAL",
            Tok::Timestamp => "TIMESTAMP",
            Tok::Value => "VALUE",
            Tok::Unit => "UNIT",
            Tok::EofWord => "EOFWORD",
        }
    }
}

// Lexer start conditions.
const S_INIT: u8 = 0;
const S_COMMENT: u8 = 1;
const S_META1: u8 = 2;
const S_META2: u8 = 3;
const S_LABELS: u8 = 4;
const S_LVALUE: u8 = 5;
const S_VALUE: u8 = 6;
const S_TIMESTAMP: u8 = 7;
const S_EXEMPLAR: u8 = 8;
const S_EVALUE: u8 = 9;
const S_ETIMESTAMP: u8 = 10;

/// What a DFA state does with the current byte.
enum Step {
    /// Consume the byte and go to the state.
    Go(u8),
    /// A token ends before the byte.
    Accept(Accept),
    /// No token: the lexer gives up at the byte.
    Abort,
}

#[derive(Clone, Copy)]
enum Accept {
    /// Return a token, setting the start condition when given.
    Tok(Tok, Option<u8>),
    /// `#[ \t]+`: enter the comment condition and lex on from the current byte.
    EnterComment,
    /// `#` not followed by a blank: the rest of the line is a comment.
    ConsumeComment,
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_m(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}

fn is_l(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Inside a quoted string: anything but NUL, `"` and `\`.
fn is_qchar(c: u8) -> bool {
    c != 0 && c != b'"' && c != b'\\'
}

/// After a backslash in a quoted string: anything but NUL and a new-line.
fn is_escaped(c: u8) -> bool {
    c != 0 && c != b'\n'
}

/// `[^\n]` as the DFA sees it (NUL excluded).
fn is_text(c: u8) -> bool {
    c != 0 && c != b'\n'
}

/// `[^{ \t\n]` (NUL excluded).
fn is_value(c: u8) -> bool {
    c != 0 && c != b'{' && c != b'\n' && !is_blank(c)
}

struct Lexer {
    b: Vec<u8>,
    i: usize,
    start: usize,
    state: u8,
    /// The OpenMetrics lexer (`openmetricslex.l`) rather than the text format's.
    om: bool,
}

impl Lexer {
    /// Advances to the next byte; past the end, NUL (the end of the input). In a label value,
    /// a help text or a comment, NUL bytes are skipped (they are allowed there).
    fn next(&mut self) -> u8 {
        self.i += 1;
        while self.i < self.b.len()
            && self.b[self.i] == 0
            && matches!(self.state, S_LVALUE | S_META2 | S_COMMENT)
        {
            self.i += 1;
        }
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn consume_comment(&mut self) -> Tok {
        let mut c = self.b.get(self.i).copied().unwrap_or(0);
        loop {
            match c {
                0 => return Tok::Eof,
                b'\n' => {
                    self.state = S_INIT;
                    return Tok::Comment;
                }
                _ => c = self.next(),
            }
        }
    }

    fn step(state: u8, c: u8) -> Step {
        use Accept::Tok as T;
        use Step::{Abort, Accept as A, Go};
        match state {
            // INITIAL
            1 => match c {
                b'#' => Go(5),
                _ if is_m(c) => Go(7),
                b'\n' => Go(4),
                _ if is_blank(c) => Go(3),
                0 => Go(2),
                b'{' => Go(8),
                _ => Abort,
            },
            2 => A(T(Tok::Eof, None)),
            3 => match c {
                _ if is_blank(c) => Go(3),
                _ => A(T(Tok::Whitespace, None)),
            },
            4 => A(T(Tok::Linebreak, Some(S_INIT))),
            5 => match c {
                _ if is_blank(c) => Go(6),
                _ => A(Accept::ConsumeComment),
            },
            6 => match c {
                _ if is_blank(c) => Go(6),
                _ => A(Accept::EnterComment),
            },
            7 => match c {
                _ if is_m(c) || c.is_ascii_digit() => Go(7),
                _ => A(T(Tok::MName, Some(S_VALUE))),
            },
            8 => A(T(Tok::BraceOpen, Some(S_LABELS))),
            // sComment
            9 => match c {
                b'H' => Go(10),
                b'T' => Go(15),
                _ if is_blank(c) => Go(3),
                _ => Abort,
            },
            10 => {
                if c == b'E' {
                    Go(11)
                } else {
                    Abort
                }
            }
            11 => {
                if c == b'L' {
                    Go(12)
                } else {
                    Abort
                }
            }
            12 => {
                if c == b'P' {
                    Go(13)
                } else {
                    Abort
                }
            }
            13 => {
                if is_blank(c) {
                    Go(14)
                } else {
                    Abort
                }
            }
            14 => {
                if is_blank(c) {
                    Go(14)
                } else {
                    A(T(Tok::Help, Some(S_META1)))
                }
            }
            15 => {
                if c == b'Y' {
                    Go(16)
                } else {
                    Abort
                }
            }
            16 => {
                if c == b'P' {
                    Go(17)
                } else {
                    Abort
                }
            }
            17 => {
                if c == b'E' {
                    Go(18)
                } else {
                    Abort
                }
            }
            18 => {
                if is_blank(c) {
                    Go(19)
                } else {
                    Abort
                }
            }
            19 => {
                if is_blank(c) {
                    Go(19)
                } else {
                    A(T(Tok::Type, Some(S_META1)))
                }
            }
            // sMeta1
            20 => match c {
                b'"' => Go(21),
                _ if is_m(c) => Go(24),
                _ if is_blank(c) => Go(3),
                _ => Abort,
            },
            21 => match c {
                b'"' => Go(22),
                b'\\' => Go(23),
                _ if is_qchar(c) => Go(21),
                _ => Abort,
            },
            22 => A(T(Tok::MName, Some(S_META2))),
            23 => {
                if is_escaped(c) {
                    Go(21)
                } else {
                    Abort
                }
            }
            24 => match c {
                _ if is_m(c) || c.is_ascii_digit() => Go(24),
                _ => A(T(Tok::MName, Some(S_META2))),
            },
            // sMeta2
            25 => match c {
                _ if is_blank(c) => Go(27),
                _ if is_text(c) => Go(26),
                _ => A(T(Tok::Text, Some(S_INIT))),
            },
            26 => {
                if is_text(c) {
                    Go(26)
                } else {
                    A(T(Tok::Text, Some(S_INIT)))
                }
            }
            27 => match c {
                _ if is_blank(c) => Go(27),
                _ if is_text(c) => Go(26),
                _ => A(T(Tok::Whitespace, None)),
            },
            // sLabels
            28 => match c {
                b'"' => Go(29),
                b',' => Go(32),
                b'=' => Go(33),
                _ if is_blank(c) => Go(3),
                b'}' => Go(35),
                _ if is_l(c) => Go(34),
                _ => Abort,
            },
            29 => match c {
                b'"' => Go(30),
                b'\\' => Go(31),
                _ if is_qchar(c) => Go(29),
                _ => Abort,
            },
            30 => A(T(Tok::QString, Some(S_LABELS))),
            31 => {
                if is_escaped(c) {
                    Go(29)
                } else {
                    Abort
                }
            }
            32 => A(T(Tok::Comma, None)),
            33 => A(T(Tok::Equal, Some(S_LVALUE))),
            34 => match c {
                _ if is_l(c) || c.is_ascii_digit() => Go(34),
                _ => A(T(Tok::LName, None)),
            },
            35 => A(T(Tok::BraceClose, Some(S_VALUE))),
            // sLValue
            36 => match c {
                b'"' => Go(37),
                _ if is_blank(c) => Go(3),
                _ => Abort,
            },
            37 => match c {
                b'"' => Go(38),
                b'\\' => Go(39),
                _ if is_qchar(c) => Go(37),
                _ => Abort,
            },
            38 => A(T(Tok::LValue, Some(S_LABELS))),
            39 => {
                if is_escaped(c) {
                    Go(37)
                } else {
                    Abort
                }
            }
            // sValue
            40 => match c {
                _ if is_blank(c) => Go(3),
                b'{' => Go(42),
                _ if is_value(c) => Go(41),
                _ => Abort,
            },
            41 => {
                if is_value(c) {
                    Go(41)
                } else {
                    A(T(Tok::Value, Some(S_TIMESTAMP)))
                }
            }
            42 => A(T(Tok::BraceOpen, Some(S_LABELS))),
            // sTimestamp
            43 => match c {
                b'\n' => Go(44),
                _ if is_blank(c) => Go(3),
                _ if c.is_ascii_digit() => Go(45),
                _ => Abort,
            },
            44 => A(T(Tok::Linebreak, Some(S_INIT))),
            45 => {
                if c.is_ascii_digit() {
                    Go(45)
                } else {
                    A(T(Tok::Timestamp, None))
                }
            }
            _ => Abort,
        }
    }

    /// The DFA of `openmetricslex.l` (states numbered as golex numbers them; 72-74 are the
    /// quoted exemplar label names of later versions).
    fn om_step(state: u8, c: u8) -> Step {
        use Accept::Tok as T;
        use Step::{Abort, Accept as A, Go};
        // `[^ \n]` and the NUL the DFA never matches.
        let vchar = c != 0 && c != b'\n' && c != b' ';
        let lqchar = is_qchar(c) && c != b'\n';
        match state {
            1 => match c {
                b'#' => Go(2),
                _ if is_m(c) => Go(4),
                b'{' => Go(5),
                _ => Abort,
            },
            2 => {
                if c == b' ' {
                    Go(3)
                } else {
                    Abort
                }
            }
            3 => A(Accept::EnterComment),
            4 => match c {
                _ if is_m(c) || c.is_ascii_digit() => Go(4),
                _ => A(T(Tok::MName, Some(S_VALUE))),
            },
            5 => A(T(Tok::BraceOpen, Some(S_LABELS))),
            6 => match c {
                b'E' => Go(7),
                b'H' => Go(11),
                b'T' => Go(16),
                b'U' => Go(21),
                _ => Abort,
            },
            7 => {
                if c == b'O' {
                    Go(8)
                } else {
                    Abort
                }
            }
            8 => {
                if c == b'F' {
                    Go(9)
                } else {
                    Abort
                }
            }
            9 => {
                if c == b'\n' {
                    Go(10)
                } else {
                    A(T(Tok::EofWord, Some(S_INIT)))
                }
            }
            10 => A(T(Tok::EofWord, Some(S_INIT))),
            11 => {
                if c == b'E' {
                    Go(12)
                } else {
                    Abort
                }
            }
            12 => {
                if c == b'L' {
                    Go(13)
                } else {
                    Abort
                }
            }
            13 => {
                if c == b'P' {
                    Go(14)
                } else {
                    Abort
                }
            }
            14 => {
                if c == b' ' {
                    Go(15)
                } else {
                    Abort
                }
            }
            15 => A(T(Tok::Help, Some(S_META1))),
            16 => {
                if c == b'Y' {
                    Go(17)
                } else {
                    Abort
                }
            }
            17 => {
                if c == b'P' {
                    Go(18)
                } else {
                    Abort
                }
            }
            18 => {
                if c == b'E' {
                    Go(19)
                } else {
                    Abort
                }
            }
            19 => {
                if c == b' ' {
                    Go(20)
                } else {
                    Abort
                }
            }
            20 => A(T(Tok::Type, Some(S_META1))),
            21 => {
                if c == b'N' {
                    Go(22)
                } else {
                    Abort
                }
            }
            22 => {
                if c == b'I' {
                    Go(23)
                } else {
                    Abort
                }
            }
            23 => {
                if c == b'T' {
                    Go(24)
                } else {
                    Abort
                }
            }
            24 => {
                if c == b' ' {
                    Go(25)
                } else {
                    Abort
                }
            }
            25 => A(T(Tok::Unit, Some(S_META1))),
            26 => match c {
                b'"' => Go(27),
                _ if is_m(c) => Go(30),
                _ => Abort,
            },
            27 => match c {
                b'"' => Go(28),
                b'\\' => Go(29),
                _ if is_qchar(c) => Go(27),
                _ => Abort,
            },
            28 => A(T(Tok::MName, Some(S_META2))),
            29 => {
                if is_escaped(c) {
                    Go(27)
                } else {
                    Abort
                }
            }
            30 => match c {
                _ if is_m(c) || c.is_ascii_digit() => Go(30),
                _ => A(T(Tok::MName, Some(S_META2))),
            },
            31 => {
                if c == b' ' {
                    Go(32)
                } else {
                    Abort
                }
            }
            32 => match c {
                b'\n' => Go(33),
                _ if c != 0 => Go(32),
                _ => Abort,
            },
            33 => A(T(Tok::Text, Some(S_INIT))),
            34 => match c {
                b'"' => Go(35),
                b',' => Go(38),
                b'=' => Go(39),
                b'}' => Go(41),
                _ if is_l(c) => Go(40),
                _ => Abort,
            },
            35 => match c {
                b'"' => Go(36),
                b'\\' => Go(37),
                _ if is_qchar(c) => Go(35),
                _ => Abort,
            },
            36 => A(T(Tok::QString, Some(S_LABELS))),
            37 => {
                if is_escaped(c) {
                    Go(35)
                } else {
                    Abort
                }
            }
            38 => A(T(Tok::Comma, None)),
            39 => A(T(Tok::Equal, Some(S_LVALUE))),
            40 => match c {
                _ if is_l(c) || c.is_ascii_digit() => Go(40),
                _ => A(T(Tok::LName, None)),
            },
            41 => A(T(Tok::BraceClose, Some(S_VALUE))),
            42 => {
                if c == b'"' {
                    Go(43)
                } else {
                    Abort
                }
            }
            43 => match c {
                b'"' => Go(44),
                b'\\' => Go(45),
                _ if lqchar => Go(43),
                _ => Abort,
            },
            44 => A(T(Tok::LValue, Some(S_LABELS))),
            45 => {
                if is_escaped(c) {
                    Go(43)
                } else {
                    Abort
                }
            }
            46 => match c {
                b' ' => Go(47),
                b'{' => Go(49),
                _ => Abort,
            },
            47 => {
                if vchar {
                    Go(48)
                } else {
                    Abort
                }
            }
            48 => {
                if vchar {
                    Go(48)
                } else {
                    A(T(Tok::Value, Some(S_TIMESTAMP)))
                }
            }
            49 => A(T(Tok::BraceOpen, Some(S_LABELS))),
            50 => match c {
                b' ' => Go(52),
                b'\n' => Go(51),
                _ => Abort,
            },
            51 => A(T(Tok::Linebreak, Some(S_INIT))),
            52 => match c {
                b'#' => Go(54),
                _ if vchar => Go(53),
                _ => Abort,
            },
            53 => {
                if vchar {
                    Go(53)
                } else {
                    A(T(Tok::Timestamp, None))
                }
            }
            54 => match c {
                b' ' => Go(55),
                _ if vchar => Go(53),
                _ => A(T(Tok::Timestamp, None)),
            },
            55 => {
                if c == b'{' {
                    Go(56)
                } else {
                    Abort
                }
            }
            56 => A(T(Tok::Comment, Some(S_EXEMPLAR))),
            57 => match c {
                b',' => Go(58),
                b'=' => Go(59),
                b'}' => Go(61),
                b'"' => Go(72),
                _ if is_l(c) => Go(60),
                _ => Abort,
            },
            58 => A(T(Tok::Comma, None)),
            59 => A(T(Tok::Equal, Some(S_EVALUE))),
            60 => match c {
                _ if is_l(c) || c.is_ascii_digit() => Go(60),
                _ => A(T(Tok::LName, None)),
            },
            61 => A(T(Tok::BraceClose, Some(S_EVALUE))),
            62 => match c {
                b' ' => Go(63),
                b'"' => Go(65),
                _ => Abort,
            },
            63 => {
                if vchar {
                    Go(64)
                } else {
                    Abort
                }
            }
            64 => {
                if vchar {
                    Go(64)
                } else {
                    A(T(Tok::Value, Some(S_ETIMESTAMP)))
                }
            }
            65 => match c {
                b'"' => Go(66),
                b'\\' => Go(67),
                _ if lqchar => Go(65),
                _ => Abort,
            },
            66 => A(T(Tok::LValue, Some(S_EXEMPLAR))),
            67 => {
                if is_escaped(c) {
                    Go(65)
                } else {
                    Abort
                }
            }
            68 => match c {
                b' ' => Go(70),
                b'\n' => Go(69),
                _ => Abort,
            },
            69 => A(T(Tok::Linebreak, Some(S_INIT))),
            70 => {
                if vchar {
                    Go(71)
                } else {
                    Abort
                }
            }
            71 => {
                if vchar {
                    Go(71)
                } else {
                    A(T(Tok::Timestamp, None))
                }
            }
            72 => match c {
                b'"' => Go(73),
                b'\\' => Go(74),
                _ if lqchar => Go(72),
                _ => Abort,
            },
            73 => A(T(Tok::QString, Some(S_EXEMPLAR))),
            74 => {
                if is_escaped(c) {
                    Go(72)
                } else {
                    Abort
                }
            }
            _ => Abort,
        }
    }

    fn lex(&mut self) -> Tok {
        if self.i >= self.b.len() {
            return Tok::Eof;
        }
        let mut c = self.b[self.i];
        self.start = self.i;
        loop {
            let mut s = match (self.om, self.state) {
                (false, S_INIT) => 1,
                (false, S_COMMENT) => 9,
                (false, S_META1) => 20,
                (false, S_META2) => 25,
                (false, S_LABELS) => 28,
                (false, S_LVALUE) => 36,
                (false, S_VALUE) => 40,
                (false, _) => 43,
                (true, S_INIT) => 1,
                (true, S_COMMENT) => 6,
                (true, S_META1) => 26,
                (true, S_META2) => 31,
                (true, S_LABELS) => 34,
                (true, S_LVALUE) => 42,
                (true, S_VALUE) => 46,
                (true, S_TIMESTAMP) => 50,
                (true, S_EXEMPLAR) => 57,
                (true, S_EVALUE) => 62,
                (true, _) => 68,
            };
            loop {
                let step = if self.om {
                    Self::om_step(s, c)
                } else {
                    Self::step(s, c)
                };
                match step {
                    Step::Go(n) => {
                        c = self.next();
                        s = n;
                    }
                    Step::Accept(Accept::Tok(t, st)) => {
                        if let Some(st) = st {
                            self.state = st;
                        }
                        return t;
                    }
                    Step::Accept(Accept::EnterComment) => {
                        self.state = S_COMMENT;
                        break; // lex on from the current byte, the token still started at `#`
                    }
                    Step::Accept(Accept::ConsumeComment) => return self.consume_comment(),
                    Step::Abort => {
                        if !self.om && self.state == S_COMMENT {
                            return self.consume_comment();
                        }
                        return Tok::Invalid;
                    }
                }
            }
        }
    }

    fn buf(&self) -> &[u8] {
        &self.b[self.start..self.i.min(self.b.len())]
    }
}

/// A label name token's name: quotes and escapes removed.
fn label_name(raw: &[u8]) -> Vec<u8> {
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return raw.to_vec();
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        match (inner[i], inner.get(i + 1)) {
            (b'\\', Some(b'n')) => {
                out.push(b'\n');
                i += 2;
            }
            (b'\\', Some(&c @ (b'\\' | b'"'))) => {
                out.push(c);
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// What the TSDB's head says of a sample whose labels repeat a name (after dropping empty
/// values, `__name__` included), as a scrape appends it: the smallest repeated name.
fn duplicate_label(names: &[(Vec<u8>, bool)]) -> Result<(), String> {
    let mut set: Vec<&[u8]> = names
        .iter()
        .filter(|(_, non_empty)| *non_empty)
        .map(|(n, _)| n.as_slice())
        .collect();
    set.push(b"__name__");
    set.sort_unstable();
    match set.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(format!(
            "label name {} is not unique: invalid sample",
            go_quote_bytes(w[0])
        )),
        None => Ok(()),
    }
}

/// Go's `strconv` error for a float that Prometheus's `parseFloat` rejects.
fn go_float_error(s: &[u8]) -> Option<String> {
    if s.iter().any(|&c| matches!(c, b'p' | b'P' | b'_')) {
        return Some("unsupported character in float".into());
    }
    let body = s.strip_prefix(b"+").or_else(|| s.strip_prefix(b"-"));
    let signed_nan = body.is_some_and(|b| b.eq_ignore_ascii_case(b"nan"));
    let syntax = || {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            go_quote_bytes(s)
        )
    };
    if signed_nan {
        return Some(syntax());
    }
    match crate::float::parse_float(s) {
        None => Some(syntax()),
        Some(v) if v.is_infinite() && s.iter().any(|c| c.is_ascii_digit()) => Some(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            go_quote_bytes(s)
        )),
        Some(_) => None,
    }
}

struct PromParser {
    l: Lexer,
    /// Where the current entry starts.
    start: usize,
    /// Whether the metric name of the current sample is set (`offsets[0] != -1`).
    name_set: bool,
    /// The label names of the current sample, and whether each value is non-empty.
    names: Vec<(Vec<u8>, bool)>,
}

impl PromParser {
    fn next_token(&mut self) -> Tok {
        loop {
            let t = self.l.lex();
            if t != Tok::Whitespace {
                return t;
            }
        }
    }

    fn parse_error(&self, exp: &str, got: Tok) -> String {
        let e = self.l.b.len().min(self.l.i + 1);
        format!(
            "{exp}, got {} ({:?}) while parsing: {}",
            go_quote_bytes(&self.l.b[self.l.start.min(e)..e]),
            got.name(),
            go_quote_bytes(&self.l.b[self.start.min(e)..e])
        )
    }

    fn so_far(&self) -> String {
        go_quote_bytes(&self.l.b[self.start..self.l.i.min(self.l.b.len())])
    }

    /// One entry; `Ok(false)` at the end of the input.
    fn next(&mut self) -> Result<bool, String> {
        loop {
            self.start = self.l.i;
            self.name_set = false;
            self.names.clear();
            match self.next_token() {
                Tok::Eof => return Ok(false),
                Tok::Linebreak => continue,
                t @ (Tok::Help | Tok::Type) => {
                    let t2 = self.next_token();
                    if t2 != Tok::MName {
                        return Err(self
                            .parse_error(&format!("expected metric name after {}", t.name()), t2));
                    }
                    let t2 = self.next_token();
                    if t2 != Tok::Text {
                        return Err(format!("expected text in {}, got {}", t.name(), t2.name()));
                    }
                    let buf = self.l.buf();
                    let text = if buf.len() > 1 { &buf[1..] } else { &[][..] };
                    if t == Tok::Type {
                        if !matches!(
                            text,
                            b"counter" | b"gauge" | b"histogram" | b"summary" | b"untyped"
                        ) {
                            return Err(format!("invalid metric type {}", go_quote_bytes(text)));
                        }
                    } else if std::str::from_utf8(text).is_err() {
                        return Err(format!(
                            "help text {} is not a valid utf8 string",
                            go_quote_bytes(text)
                        ));
                    }
                    let t3 = self.next_token();
                    if t3 != Tok::Linebreak {
                        return Err(self.parse_error("linebreak expected after metadata", t3));
                    }
                    return Ok(true);
                }
                Tok::Comment => {
                    let t = self.next_token();
                    if t != Tok::Linebreak {
                        return Err(self.parse_error("linebreak expected after comment", t));
                    }
                    return Ok(true);
                }
                Tok::BraceOpen => {
                    self.parse_lvals()?;
                    let t = self.next_token();
                    self.parse_metric_suffix(t)?;
                    return duplicate_label(&self.names).map(|()| true);
                }
                Tok::MName => {
                    self.name_set = true;
                    let mut t2 = self.next_token();
                    if t2 == Tok::BraceOpen {
                        self.parse_lvals()?;
                        t2 = self.next_token();
                    }
                    self.parse_metric_suffix(t2)?;
                    return duplicate_label(&self.names).map(|()| true);
                }
                t => return Err(self.parse_error("expected a valid start token", t)),
            }
        }
    }

    fn parse_lvals(&mut self) -> Result<(), String> {
        let mut t = self.next_token();
        loop {
            let is_qstring = match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName => false,
                Tok::QString => true,
                _ => return Err(self.parse_error("expected label name", t)),
            };
            let name = label_name(self.l.buf());
            t = self.next_token();
            // A quoted string followed by a comma or brace is the metric name.
            if is_qstring && (t == Tok::Comma || t == Tok::BraceClose) {
                if self.name_set {
                    return Err(format!(
                        "metric name already set while parsing: {}",
                        self.so_far()
                    ));
                }
                self.name_set = true;
                if t == Tok::BraceClose {
                    return Ok(());
                }
                t = self.next_token();
                continue;
            }
            if t != Tok::Equal {
                return Err(self.parse_error("expected equal", t));
            }
            let t2 = self.next_token();
            if t2 != Tok::LValue {
                return Err(self.parse_error("expected label value", t2));
            }
            if std::str::from_utf8(self.l.buf()).is_err() {
                return Err(format!(
                    "invalid UTF-8 label value: {}",
                    go_quote_bytes(self.l.buf())
                ));
            }
            self.names.push((name, self.l.buf().len() > 2));
            t = self.next_token();
            if t == Tok::Comma {
                t = self.next_token();
            }
        }
    }

    fn parse_metric_suffix(&mut self, t: Tok) -> Result<(), String> {
        if !self.name_set {
            return Err(format!(
                "metric name not set while parsing: {}",
                self.so_far()
            ));
        }
        if t != Tok::Value {
            return Err(self.parse_error("expected value after metric", t));
        }
        if let Some(e) = go_float_error(self.l.buf()) {
            return Err(format!("{e} while parsing: {}", self.so_far()));
        }
        match self.next_token() {
            Tok::Linebreak => Ok(()),
            Tok::Timestamp => {
                let ts = self.l.buf();
                // Digits only: the one failure is a value out of range.
                if std::str::from_utf8(ts)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                    .is_none()
                {
                    return Err(format!(
                        "strconv.ParseInt: parsing {}: value out of range while parsing: {}",
                        go_quote_bytes(ts),
                        self.so_far()
                    ));
                }
                let t2 = self.next_token();
                if t2 != Tok::Linebreak {
                    return Err(self.parse_error("expected next entry after timestamp", t2));
                }
                Ok(())
            }
            t => Err(self.parse_error("expected timestamp or new record", t)),
        }
    }
}

/// The first error `PromParser` reports for `input`, if any.
fn prom_error(input: &[u8]) -> Option<String> {
    let mut b = Vec::with_capacity(input.len() + 1);
    b.extend_from_slice(input);
    b.push(b'\n');
    let mut p = PromParser {
        l: Lexer {
            b,
            i: 0,
            start: 0,
            state: S_INIT,
            om: false,
        },
        start: 0,
        name_set: false,
        names: Vec::new(),
    };
    loop {
        match p.next() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(e),
        }
    }
}

/// Go's `%f` of a float `OpenMetricsParser` rejects as a timestamp (NaN or an infinity).
fn go_percent_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:.6}")
    }
}

struct OmParser {
    l: Lexer,
    start: usize,
    name_set: bool,
    /// The label names of the current sample, and whether each value is non-empty.
    names: Vec<(Vec<u8>, bool)>,
}

impl OmParser {
    fn parse_error(&self, exp: &str, got: Tok) -> String {
        let e = self.l.b.len().min(self.l.i + 1);
        format!(
            "{exp}, got {} ({:?}) while parsing: {}",
            go_quote_bytes(&self.l.b[self.l.start.min(e)..e]),
            got.name(),
            go_quote_bytes(&self.l.b[self.start.min(e)..e])
        )
    }

    fn so_far(&self) -> String {
        go_quote_bytes(&self.l.b[self.start..self.l.i.min(self.l.b.len())])
    }

    /// The float of a value or timestamp token (after its leading blank).
    fn float(&self) -> Result<f64, String> {
        let buf = self.l.buf();
        let s = buf.get(1..).unwrap_or_default();
        match go_float_error(s) {
            Some(e) => Err(format!("{e} while parsing: {}", self.so_far())),
            // Accepted by Go's ParseFloat: ours reads the same set (signed NaN excepted).
            None => Ok(crate::float::parse_float(s).unwrap_or(f64::NAN)),
        }
    }

    fn value(&mut self, t: Tok, after: &str) -> Result<(), String> {
        if t != Tok::Value {
            return Err(self.parse_error(&format!("expected value after {after}"), t));
        }
        self.float().map(|_| ())
    }

    /// One entry; `Ok(false)` at `# EOF`.
    fn next(&mut self) -> Result<bool, String> {
        self.start = self.l.i;
        self.name_set = false;
        self.names.clear();
        match self.l.lex() {
            Tok::EofWord => {
                if self.l.lex() != Tok::Eof {
                    return Err("unexpected data after # EOF".into());
                }
                Ok(false)
            }
            Tok::Eof => Err("data does not end with # EOF".into()),
            t @ (Tok::Help | Tok::Type | Tok::Unit) => {
                let t2 = self.l.lex();
                if t2 != Tok::MName {
                    return Err(
                        self.parse_error(&format!("expected metric name after {}", t.name()), t2)
                    );
                }
                let (mut ms, mut me) = (self.l.start, self.l.i);
                if self.l.b[ms] == b'"' && me > ms + 1 && self.l.b[me - 1] == b'"' {
                    ms += 1;
                    me -= 1;
                }
                if self.l.lex() != Tok::Text {
                    return Err(format!("expected text in {}", t.name()));
                }
                let buf = self.l.buf();
                let text = if buf.len() > 1 {
                    &buf[1..buf.len() - 1]
                } else {
                    &[][..]
                };
                match t {
                    Tok::Type => {
                        if !matches!(
                            text,
                            b"counter"
                                | b"gauge"
                                | b"histogram"
                                | b"gaugehistogram"
                                | b"summary"
                                | b"info"
                                | b"stateset"
                                | b"unknown"
                        ) {
                            return Err(format!("invalid metric type {}", go_quote_bytes(text)));
                        }
                    }
                    Tok::Help => {
                        if std::str::from_utf8(text).is_err() {
                            return Err(format!(
                                "help text {} is not a valid utf8 string",
                                go_quote_bytes(text)
                            ));
                        }
                    }
                    _ => {
                        let m = &self.l.b[ms..me];
                        let u = text;
                        if !u.is_empty()
                            && (!m.ends_with(u)
                                || m.len() < u.len() + 1
                                || self.l.b[me - u.len() - 1] != b'_')
                        {
                            return Err(format!(
                                "unit {} not a suffix of metric {}",
                                go_quote_bytes(u),
                                go_quote_bytes(m)
                            ));
                        }
                    }
                }
                Ok(true)
            }
            Tok::BraceOpen => {
                self.parse_lvals(false)?;
                let t = self.l.lex();
                self.series_end_of_line(t).map(|()| true)
            }
            Tok::MName => {
                self.name_set = true;
                let mut t2 = self.l.lex();
                if t2 == Tok::BraceOpen {
                    self.parse_lvals(false)?;
                    t2 = self.l.lex();
                }
                self.series_end_of_line(t2).map(|()| true)
            }
            t => Err(self.parse_error("expected a valid start token", t)),
        }
    }

    fn parse_lvals(&mut self, exemplar: bool) -> Result<(), String> {
        let mut t = self.l.lex();
        loop {
            match t {
                Tok::BraceClose => return Ok(()),
                Tok::LName | Tok::QString => {}
                _ => return Err(self.parse_error("expected label name", t)),
            }
            let name = label_name(self.l.buf());
            t = self.l.lex();
            // A name followed by a comma or brace is the metric name (not in an exemplar).
            if t == Tok::Comma || t == Tok::BraceClose {
                if exemplar {
                    return Err(self.parse_error("expected label name", t));
                }
                if self.name_set {
                    return Err(format!(
                        "metric name already set while parsing: {}",
                        self.so_far()
                    ));
                }
                self.name_set = true;
                if t == Tok::BraceClose {
                    return Ok(());
                }
                t = self.l.lex();
                continue;
            }
            if t != Tok::Equal {
                return Err(self.parse_error("expected equal", t));
            }
            let t2 = self.l.lex();
            if t2 != Tok::LValue {
                return Err(self.parse_error("expected label value", t2));
            }
            if std::str::from_utf8(self.l.buf()).is_err() {
                return Err(format!(
                    "invalid UTF-8 label value: {}",
                    go_quote_bytes(self.l.buf())
                ));
            }
            self.names.push((name, self.l.buf().len() > 2));
            t = self.l.lex();
            if t == Tok::Comma {
                t = self.l.lex();
            } else if t != Tok::BraceClose {
                return Err(self.parse_error("expected comma or brace close", t));
            }
        }
    }

    fn series_end_of_line(&mut self, t: Tok) -> Result<(), String> {
        let names = std::mem::take(&mut self.names);
        self.series_line_rest(t)?;
        duplicate_label(&names)
    }

    fn series_line_rest(&mut self, t: Tok) -> Result<(), String> {
        if !self.name_set {
            return Err(format!(
                "metric name not set while parsing: {}",
                self.so_far()
            ));
        }
        self.value(t, "metric")?;
        match self.l.lex() {
            Tok::Eof => Err("data does not end with # EOF".into()),
            Tok::Comment => self.exemplar(),
            Tok::Timestamp => {
                let ts = self.float()?;
                if !ts.is_finite() {
                    return Err(format!("invalid timestamp {}", go_percent_f(ts)));
                }
                match self.l.lex() {
                    Tok::Linebreak => Ok(()),
                    Tok::Comment => self.exemplar(),
                    t3 => Err(self.parse_error("expected next entry after timestamp", t3)),
                }
            }
            // A line break, or anything else: the next entry starts there.
            _ => Ok(()),
        }
    }

    fn exemplar(&mut self) -> Result<(), String> {
        // The sample's labels were checked; the exemplar's are not the series'.
        self.names.clear();
        self.parse_lvals(true)?;
        let t = self.l.lex();
        self.value(t, "exemplar labels")?;
        match self.l.lex() {
            Tok::Eof => Err("data does not end with # EOF".into()),
            Tok::Linebreak => Ok(()),
            Tok::Timestamp => {
                let ts = self.float()?;
                if !ts.is_finite() {
                    return Err(format!("invalid exemplar timestamp {}", go_percent_f(ts)));
                }
                match self.l.lex() {
                    Tok::Linebreak => Ok(()),
                    t3 => Err(self.parse_error("expected next entry after exemplar timestamp", t3)),
                }
            }
            t2 => Err(self.parse_error("expected timestamp or comment", t2)),
        }
    }
}

/// The first error `OpenMetricsParser` reports for `input`, if any.
fn om_error(input: &[u8]) -> Option<String> {
    let mut p = OmParser {
        l: Lexer {
            b: input.to_vec(),
            i: 0,
            start: 0,
            state: S_INIT,
            om: true,
        },
        start: 0,
        name_set: false,
        names: Vec::new(),
    };
    loop {
        match p.next() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(e),
        }
    }
}
