//! The credit instructions to one bank as a `pain.001.001.09` CustomerCreditTransferInitiation:
//! one group header with the control totals, one payment information block for the debtor (the
//! payer), and one `CdtTrfTxInf` per credit. The totals are declared first (the group header
//! comes before the transactions) and checked when the file is finished, so the writer streams:
//! it keeps counters, never the transactions.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use sscard_domain::money::Fen;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::amount::{AmountError, MAX_CTRL_SUM_FEN, write_amount};
use crate::text::{AccountId, Id35, Name140, TextError, check};

/// The namespace of `pain.001.001.09`.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// The only currency this platform pays in.
pub const CURRENCY: &str = "CNY";
/// `NbOfTxs` is `Max15NumericText`.
pub const MAX_TRANSACTIONS: u64 = 999_999_999_999_999;

/// The bank that holds the debtor's account (`DbtrAgt/FinInstnId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorAgent {
    /// The bank's name (`Nm`).
    pub name: Name140,
    /// The bank's code on this platform (`Othr/Id`).
    pub code: Id35,
}

/// Everything a file says before its transactions, with the totals they must add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pain001Header {
    /// `GrpHdr/MsgId`: unique per file and bank.
    pub msg_id: Id35,
    /// `GrpHdr/CreDtTm`.
    pub created_at: OffsetDateTime,
    /// `GrpHdr/InitgPty/Nm`: who sends the file (the platform for the payer).
    pub initiating_party: Name140,
    /// `PmtInf/PmtInfId`.
    pub payment_info_id: Id35,
    /// `PmtInf/ReqdExctnDt/Dt`.
    pub execution_date: Date,
    /// `PmtInf/Dbtr/Nm`: the payer.
    pub debtor_name: Name140,
    /// `PmtInf/DbtrAcct/Id/Othr/Id`: the payer's account.
    pub debtor_account: AccountId,
    /// `PmtInf/DbtrAgt`.
    pub debtor_agent: DebtorAgent,
    /// `NbOfTxs`: how many transactions will follow (at least one).
    pub transactions: u64,
    /// `CtrlSum`: their total.
    pub control_sum: Fen,
}

/// One credit: the line's key, the amount, and the creditor's name and account number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditTransfer<'a> {
    /// `PmtId/EndToEndId` (`Max35Text`): the key the bank's report will name.
    pub end_to_end_id: &'a str,
    /// `Amt/InstdAmt`, in CNY.
    pub amount: Fen,
    /// `Cdtr/Nm`.
    pub creditor_name: &'a str,
    /// `CdtrAcct/Id/Othr/Id` (`Max34Text`).
    pub creditor_account: &'a str,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The sink failed.
    #[error("writing the file failed: {0}")]
    Io(#[from] std::io::Error),
    /// A header field does not fit the schema.
    #[error("the file's header: {0}")]
    Header(String),
    /// A transaction's field does not fit the schema.
    #[error("transaction {index}: {source}")]
    Text {
        /// 1-based position of the transaction in the file.
        index: u64,
        /// What was wrong.
        source: TextError,
    },
    /// A transaction's amount cannot be credited.
    #[error("transaction {index}: {source}")]
    Amount {
        /// 1-based position of the transaction in the file.
        index: u64,
        /// What was wrong.
        source: AmountError,
    },
    /// More transactions than the header declared.
    #[error("more than the {declared} declared transactions")]
    TooMany {
        /// What the header said.
        declared: u64,
    },
    /// The transactions written do not add up to the header's totals.
    #[error(
        "the header declared {declared_lines} transactions for {declared_fen} fen, but {written_lines} for {written_fen} fen were written"
    )]
    TotalsDiffer {
        /// `NbOfTxs`.
        declared_lines: u64,
        /// `CtrlSum`, in fen.
        declared_fen: i64,
        /// Transactions written.
        written_lines: u64,
        /// Their sum, in fen.
        written_fen: i64,
    },
}

/// Writes one `pain.001.001.09` document to `W` as it goes.
pub struct Pain001Writer<W: Write> {
    xml: Writer<W>,
    declared_lines: u64,
    declared_fen: i64,
    written_lines: u64,
    written_fen: i64,
    amount: String,
}

fn open<W: Write>(xml: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new(name)))
}

fn close<W: Write>(xml: &mut Writer<W>, name: &str) -> std::io::Result<()> {
    xml.write_event(Event::End(BytesEnd::new(name)))
}

/// `<name>text</name>`, the text escaped.
fn leaf<W: Write>(xml: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    xml.create_element(name).write_text_content(BytesText::new(text))?;
    Ok(())
}

/// `<a><b>...<leaf>text</leaf>...</b></a>` for a path of nested elements.
fn nested<W: Write>(xml: &mut Writer<W>, path: &[&str], text: &str) -> std::io::Result<()> {
    let Some((last, outer)) = path.split_last() else { return Ok(()) };
    for name in outer {
        open(xml, name)?;
    }
    leaf(xml, last, text)?;
    for name in outer.iter().rev() {
        close(xml, name)?;
    }
    Ok(())
}

fn check_header(header: &Pain001Header) -> Result<(), WriteError> {
    if header.transactions == 0 || header.transactions > MAX_TRANSACTIONS {
        return Err(WriteError::Header(format!("NbOfTxs must be 1 to {MAX_TRANSACTIONS}")));
    }
    let sum = header.control_sum.value();
    if sum <= 0 || sum > MAX_CTRL_SUM_FEN {
        return Err(WriteError::Header(format!("CtrlSum must be 0.01 to {MAX_CTRL_SUM_FEN} fen, got {sum}")));
    }
    Ok(())
}

impl<W: Write> Pain001Writer<W> {
    /// Write the document's start, group header and payment information to `out`. Wrap a file
    /// or socket in a `BufWriter`: the writer issues many small writes.
    pub fn start(out: W, header: &Pain001Header) -> Result<Self, WriteError> {
        check_header(header)?;
        let created = header.created_at.replace_nanosecond(0).unwrap_or(header.created_at);
        let created = created.format(&Rfc3339).map_err(|e| WriteError::Header(format!("CreDtTm: {e}")))?;
        let mut w = Pain001Writer {
            xml: Writer::new_with_indent(out, b' ', 1),
            declared_lines: header.transactions,
            declared_fen: header.control_sum.value(),
            written_lines: 0,
            written_fen: 0,
            amount: String::with_capacity(24),
        };
        let xml = &mut w.xml;
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.write_event(Event::Start(BytesStart::new("Document").with_attributes([("xmlns", NAMESPACE)])))?;
        open(xml, "CstmrCdtTrfInitn")?;
        open(xml, "GrpHdr")?;
        leaf(xml, "MsgId", header.msg_id.as_str())?;
        leaf(xml, "CreDtTm", &created)?;
        leaf(xml, "NbOfTxs", &header.transactions.to_string())?;
        w.amount.clear();
        write_amount(header.control_sum, &mut w.amount).map_err(|e| WriteError::Header(format!("CtrlSum: {e}")))?;
        leaf(xml, "CtrlSum", &w.amount)?;
        nested(xml, &["InitgPty", "Nm"], header.initiating_party.as_str())?;
        close(xml, "GrpHdr")?;
        w.payment_info(header)?;
        Ok(w)
    }

    fn payment_info(&mut self, header: &Pain001Header) -> Result<(), WriteError> {
        let xml = &mut self.xml;
        open(xml, "PmtInf")?;
        leaf(xml, "PmtInfId", header.payment_info_id.as_str())?;
        leaf(xml, "PmtMtd", "TRF")?;
        let date = header.execution_date;
        let date = format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
        nested(xml, &["ReqdExctnDt", "Dt"], &date)?;
        nested(xml, &["Dbtr", "Nm"], header.debtor_name.as_str())?;
        nested(xml, &["DbtrAcct", "Id", "Othr", "Id"], header.debtor_account.as_str())?;
        open(xml, "DbtrAgt")?;
        open(xml, "FinInstnId")?;
        leaf(xml, "Nm", header.debtor_agent.name.as_str())?;
        nested(xml, &["Othr", "Id"], header.debtor_agent.code.as_str())?;
        close(xml, "FinInstnId")?;
        close(xml, "DbtrAgt")?;
        Ok(())
    }

    /// Write one credit, checking its fields against the schema first.
    pub fn push(&mut self, tx: &CreditTransfer<'_>) -> Result<(), WriteError> {
        let index = self.written_lines + 1;
        if index > self.declared_lines {
            return Err(WriteError::TooMany { declared: self.declared_lines });
        }
        let text = |source| WriteError::Text { index, source };
        check::<35>(tx.end_to_end_id, "EndToEndId").map_err(text)?;
        check::<140>(tx.creditor_name, "Cdtr/Nm").map_err(text)?;
        check::<34>(tx.creditor_account, "CdtrAcct/Id/Othr/Id").map_err(text)?;
        self.amount.clear();
        write_amount(tx.amount, &mut self.amount).map_err(|source| WriteError::Amount { index, source })?;
        let xml = &mut self.xml;
        open(xml, "CdtTrfTxInf")?;
        nested(xml, &["PmtId", "EndToEndId"], tx.end_to_end_id)?;
        open(xml, "Amt")?;
        xml.create_element("InstdAmt")
            .with_attribute(("Ccy", CURRENCY))
            .write_text_content(BytesText::new(&self.amount))?;
        close(xml, "Amt")?;
        nested(xml, &["Cdtr", "Nm"], tx.creditor_name)?;
        nested(xml, &["CdtrAcct", "Id", "Othr", "Id"], tx.creditor_account)?;
        close(xml, "CdtTrfTxInf")?;
        self.written_lines = index;
        // The header's check bounds every amount, and the count is bounded by the header's, so
        // only a sum past i64 could overflow; saturate and let the totals check refuse it.
        self.written_fen = self.written_fen.saturating_add(tx.amount.value());
        Ok(())
    }

    /// Close the document once the transactions add up to the header's totals; gives the sink
    /// back (flush it). On an error the bytes already written are not a valid file: discard them.
    pub fn finish(mut self) -> Result<W, WriteError> {
        if self.written_lines != self.declared_lines || self.written_fen != self.declared_fen {
            return Err(WriteError::TotalsDiffer {
                declared_lines: self.declared_lines,
                declared_fen: self.declared_fen,
                written_lines: self.written_lines,
                written_fen: self.written_fen,
            });
        }
        close(&mut self.xml, "PmtInf")?;
        close(&mut self.xml, "CstmrCdtTrfInitn")?;
        close(&mut self.xml, "Document")?;
        let mut out = self.xml.into_inner();
        out.write_all(b"\n")?;
        Ok(out)
    }
}
