//! The catalogs are sound: they parse, have the same keys in both languages, and hold
//! every key the pages ask for (literal keys in the code and templates, and the keys built
//! from the domain's codes: statuses, kinds, channels, scenarios, accounts, refusals).

use super::*;
use std::collections::BTreeSet;

#[test]
fn language_from_cookie_then_header() {
    assert_eq!(Lang::choose(Some("en"), Some("zh-CN")), Lang::En);
    assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9")), Lang::En);
    assert_eq!(Lang::choose(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
    assert_eq!(Lang::choose(None, None), Lang::Zh);
    assert_eq!(Tr { lang: Lang::En }.s("login"), "Log in");
    assert_eq!(Tr { lang: Lang::Zh }.s("login"), "登录");
    assert_eq!(Tr { lang: Lang::Zh }.s("no-such-key"), "no-such-key");
    assert_eq!(Tr { lang: Lang::Zh }.get("err_trivial_pin"), Some("密码过于简单（重复或连续数字），请重新设置"));
}

#[test]
fn arguments_are_formatted_without_bidi_marks() {
    let t = Tr { lang: Lang::En };
    let text = t.f("err_doc_check_char", &[("expected", "7".into()), ("got", "1".into())]);
    assert_eq!(text, "The check character (the last character) should be 7, not 1: a character was probably mistyped");
    let zh = Tr { lang: Lang::Zh }.f("err_doc_check_char", &[("expected", "7".into()), ("got", "1".into())]);
    assert!(zh.starts_with("证件号码校验位（最后一位）应为 7，而不是 1"), "{zh}");
}

#[test]
fn both_catalogs_parse_and_have_the_same_keys() {
    for lang in Lang::ALL {
        assert_eq!(problems(lang), Vec::<String>::new(), "{lang:?}");
    }
    let zh: BTreeSet<String> = keys(Lang::Zh).into_iter().collect();
    let en: BTreeSet<String> = keys(Lang::En).into_iter().collect();
    assert_eq!(zh.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "in Chinese only");
    assert_eq!(en.difference(&zh).collect::<Vec<_>>(), Vec::<&String>::new(), "in English only");
    assert_eq!(keys(Lang::Zh).len(), zh.len(), "a key defined twice");
    assert!(zh.len() > 200);
}

/// The keys the pages build from the domain's codes.
fn built_keys() -> Vec<String> {
    use sscard_domain::application::{AppKind, AppStatus, Channel};
    use sscard_domain::card::CardStatus;
    use sscard_domain::ledger::AccountKind;
    use sscard_domain::terminal::Scenario;
    let mut keys = Vec::new();
    keys.extend(CardStatus::ALL.iter().map(|s| format!("st_{s}")));
    keys.extend(AppStatus::ALL.iter().map(|s| format!("st_{s}")));
    keys.extend(AppKind::ALL.iter().map(|s| format!("k_{s}")));
    keys.extend(Channel::ALL.iter().map(|s| format!("c_{s}")));
    keys.extend(Scenario::ALL.iter().map(|s| format!("sc_{s}")));
    keys.extend(AccountKind::ALL.iter().map(|s| format!("acct_{s}")));
    keys.extend(sscard_domain::ledger::TransferKind::ALL.iter().map(|s| format!("tk_{s}")));
    keys.extend(sscard_domain::refusal::Refusal::ALL.iter().map(|s| format!("rf_{s}")));
    keys.extend(sscard_domain::terminal::Presented::ALL.iter().map(|s| format!("pr_{s}")));
    keys.extend(sscard_domain::document::DocType::ALL.iter().map(|s| format!("doc_{}", s.as_str())));
    keys.extend(sscard_app::jobs::Job::ALL.iter().map(|j| j.name().to_string()));
    keys
}

/// Every `t.s("…")` (and `t.f("…"`, `t.get("…")`) literal in the web code and templates.
fn literal_keys() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in ["src/web", "templates"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("the web sources") {
            let path = entry.expect("a directory entry").path();
            if path.is_file() {
                texts.push(std::fs::read_to_string(&path).expect("a source file"));
            }
        }
    }
    let mut keys = Vec::new();
    for text in texts {
        for call in ["t.s(\"", "t.f(\"", "t.get(\""] {
            for part in text.split(call).skip(1) {
                if let Some(key) = part.split('"').next().filter(|k| !k.is_empty() && !k.contains(' ')) {
                    keys.push(key.to_string());
                }
            }
        }
    }
    keys
}

#[test]
fn every_key_the_pages_use_is_in_both_catalogs() {
    let zh: BTreeSet<String> = keys(Lang::Zh).into_iter().collect();
    let used: Vec<String> = literal_keys().into_iter().chain(built_keys()).collect();
    assert!(used.len() > 150, "the scan found the keys: {}", used.len());
    let missing: BTreeSet<&String> = used.iter().filter(|k| !zh.contains(*k) && k.as_str() != "no-such-key").collect();
    assert!(missing.is_empty(), "keys used but not in the catalogs: {missing:?}");
}

/// The stable codes of the rules' refusals (`DomainError::invalid/refused/conflict("code", ..)`)
/// in the domain and the use cases.
fn refusal_codes() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("sscard-domain/src"), root.join("sscard-app/src")];
    let mut codes = BTreeSet::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for call in ["DomainError::invalid(", "DomainError::refused(", "DomainError::conflict("] {
                for part in text.split(call).skip(1) {
                    let part = part.trim_start();
                    if let Some(code) = part.strip_prefix('"').and_then(|p| p.split('"').next()) {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
    }
    codes
}

#[test]
fn every_refusal_of_the_rules_has_a_message_in_both_languages() {
    let zh: BTreeSet<String> = keys(Lang::Zh).into_iter().collect();
    let codes = refusal_codes();
    assert!(codes.len() > 40, "the scan found the codes: {codes:?}");
    let missing: Vec<&String> = codes.iter().filter(|c| !zh.contains(&format!("err_{c}"))).collect();
    assert!(
        missing.is_empty(),
        "refusals without a catalog message (add err_<code> to i18n/*/errors.ftl): {missing:?}"
    );
}
