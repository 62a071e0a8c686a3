//! The PromQL lexer (Prometheus's `promql/parser/lex.go`), hand-written, feeding the lalrpop
//! grammar through its `extern { enum Tok }` block.
//!
//! Like Prometheus's, the lexer is modal: inside `{...}` every word is a plain identifier,
//! inside `[...]` only duration-expression tokens exist, elsewhere keywords are recognised
//! case-insensitively. Two context decisions the LR(1) grammar cannot make are taken here:
//! - `fill`, `fill_left`, `fill_right` are keywords only when followed by `(` (so they remain
//!   usable as metric names, as upstream);
//! - a `(` directly after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right` opens
//!   a label list ([`Tok::LabelsOpen`]), so `group_left (x)` is never mistaken for an operand.
//!
//! Nesting of `(`, `[`, `{` is bounded by [`super::MAX_DEPTH`]; every error is a [`LexError`]
//! with the byte offset where it starts.

use crate::ast::AggregateOp;

/// A token. String-ish payloads borrow the input (strings keep their quotes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok<'a> {
    Ident(&'a str),
    MetricIdent(&'a str),
    Number(&'a str),
    Duration(&'a str),
    Str(&'a str),
    LParen,
    /// A `(` opening a label list after `by`, `without`, `on`, `ignoring`, `group_*`.
    LabelsOpen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    /// `=` (label matcher).
    Eql,
    EqlRegex,
    NeqRegex,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    TrimUpper,
    TrimLower,
    EqlC,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
    At,
    Agg(AggregateOp),
    Offset,
    Smoothed,
    Anchored,
    By,
    Without,
    On,
    Ignoring,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Bool,
    Start,
    End,
    Step,
    Range,
}

impl Tok<'_> {
    /// Prometheus's `Item.desc()`: how the token is named in "unexpected …" messages.
    pub fn desc(&self) -> String {
        fn short(v: &str) -> String {
            // Go's `%.10q...` for long values, `%q` otherwise.
            if v.chars().count() > 10 {
                let s: String = v.chars().take(10).collect();
                format!("{s:?}...")
            } else {
                format!("{v:?}")
            }
        }
        match self {
            Tok::Ident(v) => format!("identifier {v:?}"),
            Tok::MetricIdent(v) => format!("metric identifier {v:?}"),
            Tok::Number(v) => format!("number {}", short(v)),
            Tok::Duration(v) => format!("duration {}", short(v)),
            Tok::Str(v) => format!("string {}", short(v)),
            Tok::Agg(op) => format!("<aggr:{}>", op.as_str()),
            t => {
                let s = t.text();
                if t.is_operator() {
                    format!("<op:{s}>")
                } else if t.is_keyword() {
                    format!("<{s}>")
                } else {
                    format!("{s:?}")
                }
            }
        }
    }

    fn is_operator(&self) -> bool {
        matches!(
            self,
            Tok::Add
                | Tok::Sub
                | Tok::Mul
                | Tok::Div
                | Tok::Mod
                | Tok::Pow
                | Tok::Atan2
                | Tok::TrimUpper
                | Tok::TrimLower
                | Tok::EqlC
                | Tok::Neq
                | Tok::Gtr
                | Tok::Lss
                | Tok::Gte
                | Tok::Lte
                | Tok::And
                | Tok::Or
                | Tok::Unless
                | Tok::EqlRegex
                | Tok::NeqRegex
                | Tok::At
        )
    }

    fn is_keyword(&self) -> bool {
        matches!(
            self,
            Tok::Offset
                | Tok::Smoothed
                | Tok::Anchored
                | Tok::By
                | Tok::Without
                | Tok::On
                | Tok::Ignoring
                | Tok::GroupLeft
                | Tok::GroupRight
                | Tok::Fill
                | Tok::FillLeft
                | Tok::FillRight
                | Tok::Bool
        )
    }

    /// The canonical text of fixed tokens.
    pub fn text(&self) -> &str {
        match self {
            Tok::Ident(v)
            | Tok::MetricIdent(v)
            | Tok::Number(v)
            | Tok::Duration(v)
            | Tok::Str(v) => v,
            Tok::LParen | Tok::LabelsOpen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Eql => "=",
            Tok::EqlRegex => "=~",
            Tok::NeqRegex => "!~",
            Tok::Add => "+",
            Tok::Sub => "-",
            Tok::Mul => "*",
            Tok::Div => "/",
            Tok::Mod => "%",
            Tok::Pow => "^",
            Tok::Atan2 => "atan2",
            Tok::TrimUpper => "</",
            Tok::TrimLower => ">/",
            Tok::EqlC => "==",
            Tok::Neq => "!=",
            Tok::Gtr => ">",
            Tok::Lss => "<",
            Tok::Gte => ">=",
            Tok::Lte => "<=",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Unless => "unless",
            Tok::At => "@",
            Tok::Agg(op) => op.as_str(),
            Tok::Offset => "offset",
            Tok::Smoothed => "smoothed",
            Tok::Anchored => "anchored",
            Tok::By => "by",
            Tok::Without => "without",
            Tok::On => "on",
            Tok::Ignoring => "ignoring",
            Tok::GroupLeft => "group_left",
            Tok::GroupRight => "group_right",
            Tok::Fill => "fill",
            Tok::FillLeft => "fill_left",
            Tok::FillRight => "fill_right",
            Tok::Bool => "bool",
            Tok::Start => "start",
            Tok::End => "end",
            Tok::Step => "step",
            Tok::Range => "range",
        }
    }
}

/// A lexical error at byte offset `pos`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub pos: usize,
    pub msg: String,
}

pub type Spanned<'a> = (usize, Tok<'a>, usize);

fn keyword(word: &str) -> Option<Tok<'static>> {
    let lower = word.to_ascii_lowercase();
    if let Some(op) = AggregateOp::from_name(&lower) {
        return Some(Tok::Agg(op));
    }
    Some(match lower.as_str() {
        "and" => Tok::And,
        "or" => Tok::Or,
        "unless" => Tok::Unless,
        "atan2" => Tok::Atan2,
        "offset" => Tok::Offset,
        "smoothed" => Tok::Smoothed,
        "anchored" => Tok::Anchored,
        "by" => Tok::By,
        "without" => Tok::Without,
        "on" => Tok::On,
        "ignoring" => Tok::Ignoring,
        "group_left" => Tok::GroupLeft,
        "group_right" => Tok::GroupRight,
        "fill" => Tok::Fill,
        "fill_left" => Tok::FillLeft,
        "fill_right" => Tok::FillRight,
        "bool" => Tok::Bool,
        "start" => Tok::Start,
        "end" => Tok::End,
        "step" => Tok::Step,
        "range" => Tok::Range,
        _ => return None,
    })
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}
fn is_alpha(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}
fn is_alnum(c: u8) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

/// Go's `%q` of one character, for messages: `'a'`, `'\x01'`, `'\n'`, `'\u00a0'`.
fn q(c: char) -> String {
    match c {
        '\u{07}' => "'\\a'".into(),
        '\u{08}' => "'\\b'".into(),
        '\u{0c}' => "'\\f'".into(),
        '\n' => "'\\n'".into(),
        '\r' => "'\\r'".into(),
        '\t' => "'\\t'".into(),
        '\u{0b}' => "'\\v'".into(),
        '\\' => "'\\\\'".into(),
        '\'' => "'\\''".into(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("'\\x{:02x}'", c as u32),
        c if c.is_control() || c == '\u{feff}' => format!("'\\u{:04x}'", c as u32),
        c => format!("'{c}'"),
    }
}

/// Lexes the whole input. Stops at the first error, which becomes the last element.
pub fn lex(input: &str, max_depth: usize) -> Vec<Result<Spanned<'_>, LexError>> {
    let mut lx = Lexer {
        src: input,
        b: input.as_bytes(),
        pos: 0,
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
        got_duration: false,
        max_depth,
        out: Vec::new(),
    };
    if let Err(e) = lx.run() {
        lx.out.push(Err(e));
    }
    lx.out
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    paren_depth: usize,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    max_depth: usize,
    out: Vec<Result<Spanned<'a>, LexError>>,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn peek_at(&self, i: usize) -> Option<u8> {
        self.b.get(self.pos + i).copied()
    }
    fn cur_char(&self) -> char {
        self.src[self.pos..].chars().next().unwrap_or('\0')
    }
    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            pos,
            msg: msg.into(),
        })
    }
    fn emit(&mut self, start: usize, t: Tok<'a>) {
        self.out.push(Ok((start, t, self.pos)));
    }
    fn last_tok(&self) -> Option<Tok<'a>> {
        match self.out.last() {
            Some(Ok((_, t, _))) => Some(*t),
            _ => None,
        }
    }
    fn depth(&self) -> usize {
        self.paren_depth + usize::from(self.brace_open) + usize::from(self.bracket_open)
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            if self.brace_open {
                self.inside_braces()?;
                continue;
            }
            if self.bracket_open {
                self.duration_expr()?;
                continue;
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                if self.paren_depth != 0 {
                    return self.err(start, "unclosed left parenthesis");
                }
                return Ok(());
            };
            match c {
                b'#' => self.skip_comment(),
                c if is_space(c) => self.pos += 1,
                b',' => self.single(Tok::Comma),
                b'*' => self.single(Tok::Mul),
                b'/' => self.single(Tok::Div),
                b'%' => self.single(Tok::Mod),
                b'+' => self.single(Tok::Add),
                b'-' => self.single(Tok::Sub),
                b'^' => self.single(Tok::Pow),
                b'@' => self.single(Tok::At),
                b'=' => match self.peek_at(1) {
                    Some(b'=') => {
                        self.pos += 2;
                        self.emit(start, Tok::EqlC);
                    }
                    Some(b'~') => {
                        return self.err(start, "unexpected character after '=': '~'");
                    }
                    _ => self.single(Tok::Eql),
                },
                b'!' => {
                    if self.peek_at(1) == Some(b'=') {
                        self.pos += 2;
                        self.emit(start, Tok::Neq);
                    } else {
                        self.pos += 1;
                        let c = self.next_char_desc();
                        return self.err(start, format!("unexpected character after '!': {c}"));
                    }
                }
                b'<' | b'>' if self.peek_at(1) == Some(b'/') => {
                    self.pos += 2;
                    self.emit(
                        start,
                        if c == b'<' {
                            Tok::TrimUpper
                        } else {
                            Tok::TrimLower
                        },
                    );
                }
                b'<' | b'>' => {
                    let eq = self.peek_at(1) == Some(b'=');
                    self.pos += 1 + usize::from(eq);
                    let t = match (c, eq) {
                        (b'<', true) => Tok::Lte,
                        (b'<', false) => Tok::Lss,
                        (_, true) => Tok::Gte,
                        _ => Tok::Gtr,
                    };
                    self.emit(start, t);
                }
                c if c.is_ascii_digit()
                    || (c == b'.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number_or_duration()?
                }
                b'"' | b'\'' | b'`' => self.string()?,
                c if is_alpha(c) || c == b':' => self.keyword_or_identifier(),
                b'(' => {
                    let t = match self.last_tok() {
                        Some(
                            Tok::By
                            | Tok::Without
                            | Tok::On
                            | Tok::Ignoring
                            | Tok::GroupLeft
                            | Tok::GroupRight,
                        ) => Tok::LabelsOpen,
                        _ => Tok::LParen,
                    };
                    self.single(t);
                    self.paren_depth += 1;
                    self.check_depth(start)?;
                }
                b')' => {
                    if self.paren_depth == 0 {
                        // Upstream reports it after the parenthesis (the item was emitted).
                        return self.err(start + 1, "unexpected right parenthesis ')'");
                    }
                    self.single(Tok::RParen);
                    self.paren_depth -= 1;
                }
                b'{' => {
                    self.single(Tok::LBrace);
                    self.brace_open = true;
                    self.check_depth(start)?;
                }
                b'}' => return self.err(start, "unexpected character: '}'"),
                b'[' => {
                    self.single(Tok::LBracket);
                    self.bracket_open = true;
                    self.got_colon = false;
                    self.got_duration = false;
                    self.check_depth(start)?;
                }
                b']' => return self.err(start, "unexpected right bracket ']'"),
                _ => {
                    let c = self.cur_char();
                    return self.err(start, format!("unexpected character: {}", q(c)));
                }
            }
        }
    }

    fn check_depth(&self, pos: usize) -> Result<(), LexError> {
        if self.depth() > self.max_depth {
            return self.err(
                pos,
                format!(
                    "expression nesting too deep: more than {} levels",
                    self.max_depth
                ),
            );
        }
        Ok(())
    }

    fn next_char_desc(&self) -> String {
        match self.src[self.pos..].chars().next() {
            Some(c) => q(c),
            None => "EOF".to_string(),
        }
    }

    fn single(&mut self, t: Tok<'a>) {
        let start = self.pos;
        self.pos += 1;
        self.emit(start, t);
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' || c == b'\r' {
                break;
            }
            self.pos += 1;
        }
    }

    fn keyword_or_identifier(&mut self) {
        let start = self.pos;
        while self.peek().is_some_and(|c| is_alnum(c) || c == b':') {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let lower = word.to_ascii_lowercase();
        if lower == "inf" || lower == "nan" {
            self.emit(start, Tok::Number(word));
            return;
        }
        match keyword(word) {
            Some(kw @ (Tok::Fill | Tok::FillLeft | Tok::FillRight)) => {
                if self.followed_by_lparen() {
                    self.emit(start, kw);
                } else {
                    self.emit(start, Tok::Ident(word));
                }
            }
            Some(kw) => self.emit(start, kw),
            None if word.contains(':') => self.emit(start, Tok::MetricIdent(word)),
            None => self.emit(start, Tok::Ident(word)),
        }
    }

    fn followed_by_lparen(&self) -> bool {
        self.b[self.pos..]
            .iter()
            .find(|c| !is_space(**c))
            .is_some_and(|c| *c == b'(')
    }

    fn inside_braces(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return self.err(start, "unexpected end of input inside braces");
        };
        match c {
            b'#' => self.skip_comment(),
            c if is_space(c) => self.pos += 1,
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alnum) {
                    self.pos += 1;
                }
                let w = &self.src[start..self.pos];
                self.emit(start, Tok::Ident(w));
            }
            b',' => self.single(Tok::Comma),
            b'"' | b'\'' | b'`' => self.string()?,
            b'=' => {
                if self.peek_at(1) == Some(b'~') {
                    self.pos += 2;
                    self.emit(start, Tok::EqlRegex);
                } else {
                    self.single(Tok::Eql);
                }
            }
            b'!' => match self.peek_at(1) {
                Some(b'~') => {
                    self.pos += 2;
                    self.emit(start, Tok::NeqRegex);
                }
                Some(b'=') => {
                    self.pos += 2;
                    self.emit(start, Tok::Neq);
                }
                _ => {
                    self.pos += 1;
                    let c = self.next_char_desc();
                    return self.err(
                        start,
                        format!("unexpected character after '!' inside braces: {c}"),
                    );
                }
            },
            b'{' => return self.err(start, "unexpected left brace '{'"),
            b'}' => {
                self.single(Tok::RBrace);
                self.brace_open = false;
            }
            _ => {
                let c = self.cur_char();
                return self.err(
                    start,
                    format!("unexpected character inside braces: {}", q(c)),
                );
            }
        }
        Ok(())
    }

    fn duration_expr(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let Some(c) = self.peek() else {
            return self.err(start, "unexpected end of input in duration expression");
        };
        match c {
            b']' => {
                self.single(Tok::RBracket);
                self.bracket_open = false;
                self.got_colon = false;
            }
            b':' => {
                self.single(Tok::Colon);
                if !self.got_duration {
                    return self.err(
                        start,
                        "unexpected colon before duration in duration expression",
                    );
                }
                if self.got_colon {
                    return self.err(start, "unexpected repeated colon in duration expression");
                }
                self.got_colon = true;
            }
            b'(' => {
                self.single(Tok::LParen);
                self.paren_depth += 1;
                self.check_depth(start)?;
            }
            b')' => {
                if self.paren_depth == 0 {
                    return self.err(start + 1, "unexpected right parenthesis ')'");
                }
                self.single(Tok::RParen);
                self.paren_depth -= 1;
            }
            c if is_space(c) => self.pos += 1,
            b'+' => self.single(Tok::Add),
            b'-' => self.single(Tok::Sub),
            b'*' => self.single(Tok::Mul),
            b'/' => self.single(Tok::Div),
            b'%' => self.single(Tok::Mod),
            b'^' => self.single(Tok::Pow),
            b',' => self.single(Tok::Comma),
            b's' | b'S' | b'm' | b'M' | b'r' | b'R' => {
                while self.peek().is_some_and(is_alpha) {
                    self.pos += 1;
                }
                let w = &self.src[start..self.pos];
                match w.to_ascii_lowercase().as_str() {
                    "step" => self.emit(start, Tok::Step),
                    "range" => self.emit(start, Tok::Range),
                    "min_of" | "max_of" => self.emit(start, Tok::Ident(w)),
                    _ => return Err(self.bad_letter_in_brackets(start, c as char)),
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                return Err(self.bad_letter_in_brackets(start, c as char))
            }
            c if c.is_ascii_digit()
                || (c == b'.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.got_duration = true;
                self.number_or_duration()?;
            }
            _ => {
                let c = self.cur_char();
                return self.err(
                    start,
                    format!("unexpected character in duration expression: {}", q(c)),
                );
            }
        }
        Ok(())
    }

    /// A letter inside `[...]` that starts no duration keyword. Upstream's lexer is back in
    /// its statement state right after a number or duration (and then expects a `:`).
    fn bad_letter_in_brackets(&self, start: usize, c: char) -> LexError {
        let after_number = matches!(
            self.out.last(),
            Some(Ok((_, Tok::Number(_) | Tok::Duration(_), _)))
        );
        let msg = if after_number {
            format!("unexpected character: {}, expected ':'", q(c))
        } else {
            format!("unexpected character in duration expression: {}", q(c))
        };
        LexError { pos: start, msg }
    }

    fn accept(&mut self, valid: &[u8]) -> bool {
        if self.peek().is_some_and(|c| valid.contains(&c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Go's `scanNumber`: the scanned text is not necessarily a valid number.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut hex = false;
        if self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'X')) {
            self.pos += 2;
            self.accept(b"_");
            hex = true;
        }
        let is_digit = |c: u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        if self.peek() == Some(b'.') {
            self.pos += 1;
        }
        if self.peek().is_some_and(is_digit) {
            self.pos += 1;
        }
        let mut dot = false;
        let mut exp = false;
        while let Some(c) = self.peek() {
            if !(is_digit(c) || c == b'.' || c == b'_' || c == b'e' || c == b'E') {
                break;
            }
            if c == b'.' {
                if dot {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                dot = true;
                if self.accept(b"_.") {
                    return false;
                }
                if hex {
                    return false;
                }
                continue;
            }
            if (c == b'e' || c == b'E') && !hex {
                if exp {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                exp = true;
                self.accept(b"+-");
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if c == b'_' {
                self.pos += 1;
                if self.accept(b"._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.peek().is_some_and(is_digit) {
                self.pos += 1;
            }
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alnum)
    }

    /// Upstream's `lexNumberOrDuration`: a number, else the scan goes on (without backing up)
    /// as a duration; on failure the message quotes the text consumed so far.
    fn number_or_duration(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        if self.scan_number() {
            let t = Tok::Number(&self.src[start..self.pos]);
            self.emit(start, t);
            return Ok(());
        }
        if self.accept_remaining_duration() {
            let t = Tok::Duration(&self.src[start..self.pos]);
            self.emit(start, t);
            return Ok(());
        }
        let text = &self.src[start..self.pos];
        self.err(start, format!("bad number or duration syntax: {text:?}"))
    }

    /// Upstream's `acceptRemainingDuration`. On failure the character that ended the scan is
    /// consumed too (it is part of the error message), as upstream's `next()` does.
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept(b"smhdwy") {
            return false;
        }
        self.accept(b"s");
        while self.accept(b"0123456789") {
            while self.accept(b"0123456789") {}
            if !self.accept(b"smhdw") {
                return false;
            }
            self.accept(b"s");
        }
        match self.src[self.pos..].chars().next() {
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                self.pos += c.len_utf8();
                false
            }
            _ => true,
        }
    }

    fn string(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let quote = self.b[start];
        self.pos += 1;
        if quote == b'`' {
            match self.b[self.pos..].iter().position(|c| *c == b'`') {
                Some(i) => self.pos += i + 1,
                None => return self.err(start, "unterminated raw string"),
            }
        } else {
            loop {
                match self.peek() {
                    None | Some(b'\n') => return self.err(start, "unterminated quoted string"),
                    Some(b'\\') => {
                        self.pos += 1;
                        self.escape(start, quote)?;
                    }
                    Some(c) if c == quote => {
                        self.pos += 1;
                        break;
                    }
                    Some(_) => {
                        let w = self.cur_char().len_utf8();
                        self.pos += w;
                    }
                }
            }
        }
        let t = Tok::Str(&self.src[start..self.pos]);
        self.emit(start, t);
        Ok(())
    }

    /// Upstream's `lexEscape` (from Go's scanner): validates one escape sequence, the
    /// backslash already consumed. Errors are reported at the string's start.
    fn escape(&mut self, start: usize, quote: u8) -> Result<(), LexError> {
        let next = |lx: &mut Self| -> Option<char> {
            let c = lx.src[lx.pos..].chars().next()?;
            lx.pos += c.len_utf8();
            Some(c)
        };
        let Some(ch) = next(self) else {
            return self.err(start, "escape sequence not terminated");
        };
        let (mut n, base, max, mut ch) = match ch {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c as u32 == quote as u32 => return Ok(()),
            '0'..='7' => (3, 8, 255, Some(ch)),
            'x' => (2, 16, 255, next(self)),
            'u' => (4, 16, 0x10FFFF, next(self)),
            'U' => (8, 16, 0x10FFFF, next(self)),
            c => return self.err(start, format!("unknown escape sequence {}", go_sharp_u(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = ch.and_then(|c| c.to_digit(16)).filter(|d| *d < base);
            let Some(d) = d else {
                return match ch {
                    None => self.err(start, "escape sequence not terminated"),
                    Some(c) => self.err(
                        start,
                        format!("illegal character {} in escape sequence", go_sharp_u(c)),
                    ),
                };
            };
            x = x.saturating_mul(base).saturating_add(d);
            n -= 1;
            if n > 0 {
                ch = next(self);
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return self.err(start, "escape sequence is an invalid Unicode code point");
        }
        Ok(())
    }
}

/// Go's `%#U`: `U+0063 'c'` (the character only when printable).
fn go_sharp_u(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        lex(s, 100)
            .into_iter()
            .map(|r| r.map(|(_, t, _)| t).expect("lexes"))
            .collect()
    }

    #[test]
    fn keywords_and_modes() {
        assert_eq!(
            toks("sum by (on) (x{by=\"a\"}[5m:])"),
            vec![
                Tok::Agg(AggregateOp::Sum),
                Tok::By,
                Tok::LabelsOpen,
                Tok::On,
                Tok::RParen,
                Tok::LParen,
                Tok::Ident("x"),
                Tok::LBrace,
                Tok::Ident("by"),
                Tok::Eql,
                Tok::Str("\"a\""),
                Tok::RBrace,
                Tok::LBracket,
                Tok::Duration("5m"),
                Tok::Colon,
                Tok::RBracket,
                Tok::RParen,
            ]
        );
        assert_eq!(
            toks("fill + fill(0) x"),
            vec![
                Tok::Ident("fill"),
                Tok::Add,
                Tok::Fill,
                Tok::LParen,
                Tok::Number("0"),
                Tok::RParen,
                Tok::Ident("x")
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("0x1F 1e3 .5 Inf"),
            vec![
                Tok::Number("0x1F"),
                Tok::Number("1e3"),
                Tok::Number(".5"),
                Tok::Number("Inf")
            ]
        );
        assert_eq!(toks("1h30m"), vec![Tok::Duration("1h30m")]);
        assert!(lex("1a", 10).last().unwrap().is_err());
    }
}
