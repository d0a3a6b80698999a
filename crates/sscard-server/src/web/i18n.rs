//! Chinese (default) and English for every page, from Fluent message catalogs
//! (`i18n/<lang>/*.ftl`, embedded in the binary). A page asks `t.s(..)` for a key; a missing key
//! shows the key itself, which the unit tests and the browser tests catch.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The two languages of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    /// From the `sscard_lang` cookie, else the browser's Accept-Language, else Chinese.
    pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        match cookie {
            Some("en") => return Lang::En,
            Some("zh") => return Lang::Zh,
            _ => {}
        }
        let first = accept_language.and_then(|h| h.split(',').next()).unwrap_or("").trim().to_ascii_lowercase();
        if first.starts_with("en") { Lang::En } else { Lang::Zh }
    }
    fn sources(self) -> &'static [&'static str] {
        match self {
            Lang::Zh => &[
                include_str!("../../i18n/zh-CN/pages.ftl"),
                include_str!("../../i18n/zh-CN/errors.ftl"),
                include_str!("../../i18n/zh-CN/national.ftl"),
            ],
            Lang::En => &[
                include_str!("../../i18n/en/pages.ftl"),
                include_str!("../../i18n/en/errors.ftl"),
                include_str!("../../i18n/en/national.ftl"),
            ],
        }
    }
}

/// One language's catalog: the Fluent bundle (for messages with arguments) and every
/// message without arguments formatted once, so a page's words cost a map lookup.
struct Catalog {
    bundle: FluentBundle<FluentResource>,
    plain: HashMap<String, String>,
    /// Problems met while loading (a syntax error, a key defined twice); empty when sound.
    problems: Vec<String>,
}

impl Catalog {
    fn load(lang: Lang) -> Catalog {
        let mut problems = Vec::new();
        let id = lang.code().parse::<unic_langid::LanguageIdentifier>().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // The pages are HTML escaped by the templates; the bidi marks Fluent would put
        // around each argument are not wanted there.
        bundle.set_use_isolating(false);
        let mut ids = Vec::new();
        for source in lang.sources() {
            let resource = FluentResource::try_new((*source).to_string()).unwrap_or_else(|(res, errors)| {
                problems.extend(errors.iter().map(|e| format!("{}: {e:?}", lang.code())));
                res
            });
            ids.extend(resource.entries().filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            }));
            if let Err(errors) = bundle.add_resource(resource) {
                problems.extend(errors.iter().map(|e| format!("{}: {e:?}", lang.code())));
            }
        }
        let mut plain = HashMap::new();
        for id in ids {
            let Some(pattern) = bundle.get_message(&id).and_then(|m| m.value()) else { continue };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, None, &mut errors).into_owned();
            // A message that needs arguments is only formatted with them (`Tr::f`).
            if errors.is_empty() {
                plain.insert(id, text);
            }
        }
        Catalog { bundle, plain, problems }
    }
}

static CATALOGS: LazyLock<[Catalog; 2]> = LazyLock::new(|| [Catalog::load(Lang::Zh), Catalog::load(Lang::En)]);

fn catalog(lang: Lang) -> &'static Catalog {
    &CATALOGS[match lang {
        Lang::Zh => 0,
        Lang::En => 1,
    }]
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The message `key` (one without arguments), or the key itself when the catalog lacks it.
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        self.get(key).unwrap_or(key)
    }
    /// The message `key` when the catalog has it.
    pub fn get(&self, key: &str) -> Option<&'static str> {
        catalog(self.lang).plain.get(key).map(String::as_str)
    }
    /// The message `key` formatted with `args` (name, value), or the key when missing.
    pub fn f(&self, key: &str, args: &[(&str, String)]) -> String {
        let bundle = &catalog(self.lang).bundle;
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else { return key.to_string() };
        let mut fargs = FluentArgs::new();
        for (name, value) in args {
            fargs.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned()
    }
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

/// Every message id of a language's catalog (for the tests).
pub fn keys(lang: Lang) -> Vec<String> {
    let mut keys: Vec<String> = lang
        .sources()
        .iter()
        .filter_map(|s| FluentResource::try_new((*s).to_string()).ok())
        .flat_map(|r| {
            r.entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    keys.sort();
    keys
}

/// Problems met loading a language's catalog (for the tests).
pub fn problems(lang: Lang) -> Vec<String> {
    catalog(lang).problems.clone()
}

#[cfg(test)]
mod tests;
