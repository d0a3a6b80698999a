//! A bank's `pain.002` CustomerPaymentStatusReport, read one transaction status at a time
//! (`OrgnlPmtInfAndSts/TxInfAndSts`: `OrgnlEndToEndId`, `TxSts`, `StsRsnInf/Rsn/Cd|Prtry`), so a
//! report on a million credits is read in constant memory. Any version `pain.002.001.*` is
//! accepted: the elements read are the same in all of them. A file that is not well-formed, has
//! a DOCTYPE, is not a pain.002, or whose transaction status lacks its id or status is refused
//! with the byte position of the fault.

use std::io::BufRead;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use crate::report::{
    Position, ReasonCode, ReportError, ReportErrorKind, StatusCode, StatusRecord, end_to_end, proprietary, reason_code,
    shorten, status,
};

/// The namespaces accepted: every version of pain.002.
pub const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.";
/// Deepest nesting read (a pain.002 needs about 12).
pub const MAX_DEPTH: usize = 40;
/// Most bytes of a value kept (ids and codes are at most 35 characters).
const MAX_VALUE_BYTES: usize = 512;

/// The elements whose place matters; every other one is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Document,
    Report,
    GrpHdr,
    MsgId,
    OrgnlGrpInfAndSts,
    OrgnlMsgId,
    TxInfAndSts,
    OrgnlEndToEndId,
    TxSts,
    StsRsnInf,
    Rsn,
    Cd,
    Prtry,
    Other,
}

impl Tag {
    fn of(local: &[u8]) -> Tag {
        match local {
            b"Document" => Tag::Document,
            b"CstmrPmtStsRpt" => Tag::Report,
            b"GrpHdr" => Tag::GrpHdr,
            b"MsgId" => Tag::MsgId,
            b"OrgnlGrpInfAndSts" => Tag::OrgnlGrpInfAndSts,
            b"OrgnlMsgId" => Tag::OrgnlMsgId,
            b"TxInfAndSts" => Tag::TxInfAndSts,
            b"OrgnlEndToEndId" => Tag::OrgnlEndToEndId,
            b"TxSts" => Tag::TxSts,
            b"StsRsnInf" => Tag::StsRsnInf,
            b"Rsn" => Tag::Rsn,
            b"Cd" => Tag::Cd,
            b"Prtry" => Tag::Prtry,
            _ => Tag::Other,
        }
    }

    /// Whether the text of this element is read.
    fn keeps_text(self) -> bool {
        matches!(self, Tag::MsgId | Tag::OrgnlMsgId | Tag::OrgnlEndToEndId | Tag::TxSts | Tag::Cd | Tag::Prtry)
    }
}

/// The transaction status being read.
#[derive(Debug, Default)]
struct Partial {
    end_to_end_id: Option<String>,
    status: Option<StatusCode>,
    reason: Option<ReasonCode>,
}

/// Reads the transaction statuses of a pain.002, as an iterator of records. After the first
/// error the iterator ends.
pub struct Pain002Reader<R: BufRead> {
    xml: NsReader<R>,
    buf: Vec<u8>,
    state: State,
    done: bool,
}

/// What has been read so far (apart from the XML reader, whose events borrow it).
struct State {
    stack: Vec<Tag>,
    text: String,
    tx: Option<Partial>,
    message_id: Option<String>,
    original_message_id: Option<String>,
}

impl<R: BufRead> Pain002Reader<R> {
    /// A reader over `input` (wrap a file in a `BufReader`).
    pub fn new(input: R) -> Self {
        let mut xml = NsReader::from_reader(input);
        let config = xml.config_mut();
        config.check_end_names = true;
        config.trim_text(false);
        let state = State {
            stack: Vec::with_capacity(16),
            text: String::new(),
            tx: None,
            message_id: None,
            original_message_id: None,
        };
        Pain002Reader { xml, buf: Vec::with_capacity(512), state, done: false }
    }

    /// The report's own `GrpHdr/MsgId`, once read (it comes before the statuses).
    pub fn message_id(&self) -> Option<&str> {
        self.state.message_id.as_deref()
    }

    /// The `OrgnlGrpInfAndSts/OrgnlMsgId`: the pain.001 this answers, once read.
    pub fn original_message_id(&self) -> Option<&str> {
        self.state.original_message_id.as_deref()
    }

    fn fail(&mut self, position: u64, kind: ReportErrorKind) -> Option<Result<StatusRecord, ReportError>> {
        self.done = true;
        Some(Err(ReportError { position: Position::Byte(position), kind }))
    }

    /// One event; `Some` when it finished a record or the file.
    fn step(&mut self) -> Result<Option<Option<StatusRecord>>, ReportErrorKind> {
        self.buf.clear();
        let (ns, event) =
            self.xml.read_resolved_event_into(&mut self.buf).map_err(|e| ReportErrorKind::Syntax(e.to_string()))?;
        match event {
            Event::Start(e) => self.state.start(&ns, &e)?,
            Event::Empty(e) => {
                self.state.start(&ns, &e)?;
                return Ok(self.state.end()?.map(Some));
            }
            Event::End(_) => return Ok(self.state.end()?.map(Some)),
            Event::Text(t) => {
                let piece = t.xml10_content().map_err(|e| ReportErrorKind::Syntax(e.to_string()))?;
                self.state.keep_text(&piece)?;
            }
            Event::CData(c) => {
                let piece = c.decode().map_err(|e| ReportErrorKind::Syntax(e.to_string()))?;
                self.state.keep_text(&piece)?;
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| ReportErrorKind::Syntax(e.to_string()))?;
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => s.to_owned(),
                        None => return Err(ReportErrorKind::Syntax(format!("unknown entity &{name};"))),
                    },
                    Err(e) => return Err(ReportErrorKind::Syntax(e.to_string())),
                };
                self.state.keep_text(&resolved)?;
            }
            Event::DocType(_) => return Err(ReportErrorKind::NotAReport("a DOCTYPE is not allowed".into())),
            Event::Eof if self.state.stack.is_empty() && self.state.message_id.is_none() => {
                return Err(ReportErrorKind::NotAReport("no CstmrPmtStsRpt/GrpHdr/MsgId".into()));
            }
            Event::Eof if !self.state.stack.is_empty() => return Err(ReportErrorKind::EndsEarly),
            Event::Eof => return Ok(Some(None)),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
        Ok(None)
    }
}

impl State {
    fn start(&mut self, ns: &ResolveResult<'_>, e: &BytesStart<'_>) -> Result<(), ReportErrorKind> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ReportErrorKind::TooDeep(MAX_DEPTH));
        }
        let tag = Tag::of(e.local_name().as_ref());
        match (self.stack.len(), tag) {
            (0, Tag::Document) => check_namespace(ns)?,
            (0, _) => return Err(ReportErrorKind::NotAReport("the root element is not Document".into())),
            (1, Tag::Report) => {}
            (1, _) => return Err(ReportErrorKind::NotAReport("Document does not hold CstmrPmtStsRpt".into())),
            _ => {}
        }
        if tag == Tag::TxInfAndSts {
            self.tx = Some(Partial::default());
        }
        self.stack.push(tag);
        self.text.clear();
        Ok(())
    }

    fn keep_text(&mut self, piece: &str) -> Result<(), ReportErrorKind> {
        if self.stack.last().is_some_and(|t| t.keeps_text()) {
            if self.text.len() + piece.len() > MAX_VALUE_BYTES {
                return Err(ReportErrorKind::BadValue {
                    field: "value",
                    reason: format!("longer than {MAX_VALUE_BYTES} bytes: {:?}", shorten(&self.text)),
                });
            }
            self.text.push_str(piece);
        }
        Ok(())
    }

    /// Close the innermost element; a finished `TxInfAndSts` is a record.
    fn end(&mut self) -> Result<Option<StatusRecord>, ReportErrorKind> {
        let tag = self.stack.pop().unwrap_or(Tag::Other);
        let parent = self.stack.last().copied().unwrap_or(Tag::Other);
        let text = std::mem::take(&mut self.text);
        match (parent, tag) {
            (Tag::GrpHdr, Tag::MsgId) => self.message_id = Some(shorten(text.trim())),
            (Tag::OrgnlGrpInfAndSts, Tag::OrgnlMsgId) => self.original_message_id = Some(shorten(text.trim())),
            (_, Tag::TxInfAndSts) => return self.tx.take().map(finish).transpose(),
            _ => {}
        }
        let Some(tx) = self.tx.as_mut() else { return Ok(None) };
        match (parent, tag) {
            (Tag::TxInfAndSts, Tag::OrgnlEndToEndId) => tx.end_to_end_id = Some(end_to_end(&text)?),
            (Tag::TxInfAndSts, Tag::TxSts) => tx.status = Some(status(&text)?),
            (Tag::Rsn, Tag::Cd) if tx.reason.is_none() => tx.reason = Some(reason_code(&text)?),
            (Tag::Rsn, Tag::Prtry) if tx.reason.is_none() => tx.reason = Some(proprietary(&text)?),
            _ => {}
        }
        Ok(None)
    }
}

fn check_namespace(ns: &ResolveResult<'_>) -> Result<(), ReportErrorKind> {
    match ns {
        ResolveResult::Bound(Namespace(uri)) if uri.starts_with(NAMESPACE_PREFIX.as_bytes()) => Ok(()),
        ResolveResult::Bound(Namespace(uri)) => Err(ReportErrorKind::NotAReport(format!(
            "the namespace is {:?}, not {NAMESPACE_PREFIX}*",
            shorten(&String::from_utf8_lossy(uri))
        ))),
        _ => Err(ReportErrorKind::NotAReport("Document has no pain.002 namespace".into())),
    }
}

fn finish(tx: Partial) -> Result<StatusRecord, ReportErrorKind> {
    Ok(StatusRecord {
        end_to_end_id: tx.end_to_end_id.ok_or(ReportErrorKind::Missing("OrgnlEndToEndId"))?,
        status: tx.status.ok_or(ReportErrorKind::Missing("TxSts"))?,
        reason: tx.reason,
    })
}

impl<R: BufRead> Iterator for Pain002Reader<R> {
    type Item = Result<StatusRecord, ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                Ok(None) => {}
                Ok(Some(Some(record))) => return Some(Ok(record)),
                Ok(Some(None)) => self.done = true,
                Err(kind) => {
                    let at = match kind {
                        ReportErrorKind::Syntax(_) => self.xml.error_position(),
                        _ => self.xml.buffer_position(),
                    };
                    return self.fail(at, kind);
                }
            }
        }
        None
    }
}
