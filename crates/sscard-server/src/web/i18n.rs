//! Chinese (default) and English for every page. A page asks `t.s("key")`; a missing
//! key shows the key itself, which the web tests catch.

/// The two languages of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
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
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        match lookup(key) {
            Some((zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => key,
        }
    }
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }
}

fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    frame(key)
        .or_else(|| portal(key))
        .or_else(|| desk_and_console(key))
        .or_else(|| dashboard(key))
        .or_else(|| ecard(key))
        .or_else(|| accounts_and_uses(key))
        .or_else(|| statuses_kinds_channels(key))
}

/// The frame of every page: title, log-in, navigation, roles, the words of every form.
fn frame(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "app" => ("社会保障卡服务平台", "Social Security Card Platform"),
        "login" => ("登录", "Log in"),
        "logout" => ("退出", "Log out"),
        "username" => ("用户名", "Username"),
        "password" => ("密码", "Password"),
        "login_failed" => ("用户名或密码错误", "Wrong username or password"),
        "too_many" => ("失败次数过多，请五分钟后再试", "Too many failed attempts: wait five minutes"),
        "elder_on" => ("长辈版", "Large type"),
        "elder_off" => ("标准版", "Standard type"),
        "lang_other" => ("English", "中文"),
        "portal" => ("我的社保卡", "My card"),
        "desk" => ("银行网点柜台", "Bank desk"),
        "console" => ("经办控制台", "Card office console"),
        "dashboard" => ("统计看板", "Dashboard"),
        "ok" => ("办理成功", "Done"),
        "error" => ("未能办理", "Not done"),
        "back" => ("返回", "Back"),
        "male" => ("男", "male"),
        "female" => ("女", "female"),
        "when" => ("时间", "When"),
        "actor" => ("经办人", "By"),
        "skip" => ("跳到正文", "Skip to content"),
        "role_holder" => ("持卡人", "Cardholder"),
        "role_teller" => ("银行柜员", "Bank teller"),
        "role_clerk" => ("社保经办", "Card office clerk"),
        "role_admin" => ("管理员", "Administrator"),
        _ => return None,
    })
}

/// The cardholder's portal: the person, the cards, the applications and what to do with them.
fn portal(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "person" => ("持卡人", "Cardholder"),
        "name" => ("姓名", "Name"),
        "ssn" => ("社会保障号码", "Social security number"),
        "doc_type" => ("证件类型", "Document type"),
        "doc_number" => ("证件号码", "Document number"),
        "sex" => ("性别", "Sex"),
        "birth_date" => ("出生日期", "Birth date"),
        "region" => ("参保地", "Insured region"),
        "cards" => ("我的卡", "Cards"),
        "card_no" => ("卡号", "Card number"),
        "status" => ("状态", "Status"),
        "generation" => ("代别", "Generation"),
        "bank" => ("银行", "Bank"),
        "branch" => ("网点", "Branch"),
        "pan" => ("银行账号", "Bank account"),
        "expires_on" => ("有效期至", "Valid until"),
        "issued_on" => ("发卡日期", "Issued on"),
        "actions" => ("操作", "Actions"),
        "applications" => ("申领记录", "Applications"),
        "timeline" => ("制卡进度", "Progress"),
        "kind" => ("申领类型", "Kind"),
        "channel" => ("申领渠道", "Channel"),
        "fee" => ("费用（元）", "Fee (yuan)"),
        "apply" => ("申领社保卡", "Apply for a card"),
        "apply_online" => ("网上申领（邮寄）", "Apply online (mailed)"),
        "apply_branch" => ("到网点领取", "Pick up at a branch"),
        "mail_address" => ("邮寄地址", "Mailing address"),
        "submit" => ("提交", "Submit"),
        "activate" => ("启用", "Activate"),
        "pin" => ("6位密码", "6-digit PIN"),
        "suspend" => ("临时挂失", "Report temporary loss"),
        "unsuspend" => ("解除挂失", "Lift the loss report"),
        "report-lost" => ("正式挂失", "Report lost"),
        "replace" => ("申请补卡", "Apply for a replacement"),
        "confirm_lost" => ("正式挂失后此卡不能恢复，确定吗？", "A card reported lost cannot be used again. Continue?"),
        "no_cards" => ("暂无社保卡", "No card yet"),
        "no_apps" => ("暂无申领记录", "No application yet"),
        "promise" => ("承诺时限", "Service promise"),
        "promise_met" => ("已按时寄出", "shipped in time"),
        "promise_late" => ("已超时", "late"),
        "promise_open" => ("办理中", "in progress"),
        "working_days" => ("个工作日", "working days"),
        _ => return None,
    })
}

/// The bank desk and the card office console.
fn desk_and_console(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "find_person" => ("查找持卡人", "Find a cardholder"),
        "find" => ("查找", "Find"),
        "not_found" => ("未找到", "Not found"),
        "register" => ("登记新人员", "Register a person"),
        "take_application" => ("受理申领", "Take an application"),
        "instant" => ("立等可取（即时制卡）", "Instant issuance (card printed now)"),
        "queue" => ("本行待办队列", "Bank queue"),
        "hand_over" => ("发放（领卡）", "Hand over"),
        "fee_due" => ("应收补卡费", "Replacement fee to collect"),
        "review" => ("待审核", "Review queue"),
        "approve" => ("通过", "Approve"),
        "reject" => ("驳回", "Reject"),
        "produce" => ("送制卡", "Send to card bureau"),
        "ready" => ("已到网点", "Ready at branch"),
        "ship" => ("寄出", "Ship"),
        "deliver" => ("已送达", "Delivered"),
        "collect" => ("领取", "Collect"),
        "withdraw" => ("撤回", "Withdraw"),
        "jobs" => ("定时任务", "Jobs"),
        "run" => ("立即执行", "Run now"),
        "auto_lift" => ("临时挂失到期自动解挂", "Automatic lift of temporary loss"),
        "dormant_sweep" => ("睡眠卡清理", "Dormant card sweep"),
        "temporary_expiry" => ("临时卡到期", "Temporary card expiry"),
        "stop_card" => ("异地停用", "Cross-region stop"),
        "reason" => ("原因", "Reason"),
        "stop" => ("停用", "Stop"),
        "audit_trail" => ("卡片审计记录", "Audit trail of a card"),
        "show" => ("查看", "Show"),
        "batch" => ("单位批量申领", "Employer batch issuance"),
        "batch_hint" => (
            "CSV 文件：doc_type,doc_number,name,region（首行为表头）",
            "CSV file: doc_type,doc_number,name,region (first line is the header)",
        ),
        "upload" => ("上传并申领", "Upload and apply"),
        "progress" => ("进度", "Progress"),
        "done" => ("完成", "Done"),
        "failed" => ("失败", "Failed"),
        "collect_fee" => ("收取现金", "Collect in cash"),
        "fee_collected" => ("已收费", "Fee collected"),
        _ => return None,
    })
}

/// The dashboard's charts.
fn dashboard(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "persons" => ("登记人数", "Persons"),
        "cards_by_status" => ("按状态统计卡片", "Cards by status"),
        "cards_by_generation" => ("按代别统计卡片", "Cards by generation"),
        "cards_by_bank" => ("按银行统计卡片", "Cards by bank"),
        "apps_by_channel" => ("按渠道统计申领", "Applications by channel"),
        "apps_by_status" => ("按状态统计申领", "Applications by status"),
        "apps_over_time" => ("各渠道申领趋势（每周）", "Applications per week by channel"),
        "last_12_weeks" => ("最近12周", "last 12 weeks"),
        "ecard_rate" => ("电子社保卡签发率", "E-card issuance rate"),
        "cards_active" => ("正常使用的卡", "Active cards"),
        "ecards_usable" => ("可用的电子社保卡", "Usable e-cards"),
        "usage_by_scenario" => ("按场景统计用卡", "Card uses by scenario"),
        "usage_by_presentation" => ("实体卡与电子社保卡", "Physical card vs e-card"),
        "usage_refused_by_scenario" => ("按场景统计被拒绝的用卡", "Refused uses by scenario"),
        _ => return None,
    })
}

/// The electronic card: the QR code, the channels and family members it is signed to.
fn ecard(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "ecard" => ("电子社保卡", "Electronic card"),
        "show_qr" => ("出示二维码", "Show my QR code"),
        "no_ecard" => ("启用社保卡后即可使用电子社保卡", "The electronic card is issued when a card is activated"),
        "ecard_qr" => ("电子社保卡二维码", "E-card QR code"),
        "qr_valid" => ("有效期", "valid for"),
        "qr_refresh" => ("到期前自动刷新", "refreshes itself before it expires"),
        "authorizations" => ("授权管理", "Authorizations"),
        "no_auths" => ("暂无授权", "No authorization"),
        "auth_channel" => ("渠道签发", "Signed in to"),
        "auth_family" => ("亲情服务", "Family member"),
        "revoke" => ("解除", "Revoke"),
        "revoked" => ("已解除", "revoked"),
        "channel_name" => ("应用渠道名称", "App channel"),
        "sign_in_channel" => ("签发到该渠道", "Sign in to this channel"),
        "family_qr" => ("亲情服务：可代为出示的二维码", "Family: QR codes I may show"),
        "family_ssn" => ("家人的社会保障号码", "Family member's social security number"),
        "grant_family" => ("授权家人出示我的二维码", "Let this family member show my QR code"),
        _ => return None,
    })
}

/// Balances, movements and card uses.
fn accounts_and_uses(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "balances" => ("账户余额", "Balances"),
        "no_accounts" => ("暂无账户", "No account yet"),
        "yuan" => ("元", "yuan"),
        "history" => ("最近收支", "Latest movements"),
        "uses" => ("用卡记录（谁查验了我的卡）", "Card uses (who checked my card)"),
        "no_uses" => ("暂无用卡记录", "No use yet"),
        "reads" => ("谁查看了我的信息", "Who saw my data"),
        "no_reads" => ("暂无工作人员查看过您的完整证件号码", "No staff member has seen your full ID numbers"),
        "reader" => ("查看人", "Seen by"),
        "read_what" => ("查看方式", "How"),
        "reader_teller" => ("银行柜员", "Bank teller"),
        "reader_clerk" => ("社保经办人员", "Card office clerk"),
        "reader_admin" => ("系统管理员", "Administrator"),
        "read_person" => ("查看个人信息", "Opened your record"),
        "read_person_by_number" => ("按证件号码查询", "Looked you up by your number"),
        "scenario" => ("场景", "Scenario"),
        "operator" => ("机构", "Operator"),
        "presented" => ("方式", "Presented as"),
        "acct_ewallet" => ("电子钱包", "E-wallet"),
        "acct_medical" => ("医保个人账户", "Medical personal account"),
        "acct_bank" => ("银行账户往来", "Bank account (movements)"),
        "acct_pool" => ("统筹基金", "Pool"),
        "acct_fees" => ("手续费", "Fees"),
        "acct_payer" => ("付款方", "Payer"),
        "acct_clearing" => ("清算", "Clearing"),
        "acct_cash" => ("现金", "Cash"),
        "sc_identity" => ("身份核验", "identity"),
        "sc_medical" => ("医疗结算", "medical"),
        "sc_transit" => ("公共交通", "transit"),
        "sc_library" => ("图书馆", "library"),
        "sc_park" => ("公园", "park"),
        _ => return None,
    })
}

/// Card and application statuses, application kinds and channels.
fn statuses_kinds_channels(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        // Card statuses
        "st_produced" => ("已制卡", "made"),
        "st_issued" => ("已发放（未启用）", "handed over, not active"),
        "st_active" => ("正常", "active"),
        "st_suspended" => ("临时挂失", "temporarily reported lost"),
        "st_lost" => ("正式挂失", "reported lost"),
        "st_replaced" => ("已换卡", "replaced"),
        "st_stopped" => ("已停用", "stopped"),
        "st_dormant" => ("睡眠卡", "dormant"),
        "st_cancelled" => ("已注销", "cancelled"),
        // Application statuses
        "st_submitted" => ("已提交", "submitted"),
        "st_approved" => ("已审核", "approved"),
        "st_rejected" => ("已驳回", "rejected"),
        "st_in_production" => ("制卡中", "in production"),
        "st_ready_for_pickup" => ("待领取", "ready for pickup"),
        "st_shipped" => ("已寄出", "shipped"),
        "st_delivered" => ("已送达", "delivered"),
        "st_collected" => ("已领取", "collected"),
        "st_withdrawn" => ("已撤回", "withdrawn"),
        // Kinds and channels
        "k_first" => ("首次申领", "first card"),
        "k_upgrade" => ("换代（二代换三代）", "upgrade"),
        "k_replacement" => ("补换卡", "replacement"),
        "k_temporary" => ("临时卡", "temporary"),
        "c_branch" => ("网点", "branch"),
        "c_branch_instant" => ("网点即时制卡", "instant at branch"),
        "c_kiosk" => ("自助机", "kiosk"),
        "c_online" => ("网上", "online"),
        "c_door_to_door" => ("上门服务", "door to door"),
        "c_employer_batch" => ("单位批量", "employer batch"),
        "c_newborn" => ("新生儿", "newborn"),
        "c_cross_province" => ("跨省通办", "cross-province"),
        _ => return None,
    })
}

/// Chinese for the refusals people meet on the pages, by the rule's stable code.
pub fn error_zh(code: &str) -> Option<&'static str> {
    Some(match code {
        "illegal_transition" => "当前状态下不能办理该业务",
        "illegal_step" => "申领当前所处环节不能办理该步骤",
        "trivial_pin" => "密码过于简单（重复或连续数字），请重新设置",
        "bad_pin" => "密码须为6位数字",
        "pin_required" => "启用需要设置6位密码",
        "bad_document" => "证件号码有误",
        "bad_doc_type" => "证件类型有误",
        "person_exists" => "该人员已登记",
        "has_card" => "已有社保卡，请申请换代或补换卡",
        "application_open" => "已有正在办理的申领",
        "not_reported_lost" => "请先办理正式挂失再申请补卡",
        "nothing_to_replace" => "没有可更换的第三代社保卡",
        "nothing_to_upgrade" => "没有可换代的第二代社保卡",
        "no_printer" => "该网点没有制卡设备，不能即时制卡",
        "mail_address_required" => "网上申领需填写邮寄地址",
        "branch_required" => "请选择网点",
        "no_pickup_branch" => "该申领没有领卡网点，请改为邮寄",
        "no_mail_address" => "该申领没有邮寄地址",
        "guardian_required" => "未满16周岁需登记监护人及关系证明",
        "relationship_proof_required" => "请提供户口簿或出生医学证明编号",
        "forbidden" => "无权办理该业务",
        "no_ecard" => "尚未签发电子社保卡",
        "grantee_unknown" => "未找到该家人",
        "no_fee" => "该申领无需缴费",
        "reason_required" => "请填写原因",
        "card_expired" => "社保卡已过有效期",
        "has_active_card" => "已有正常使用的社保卡",
        "bad_name" => "姓名有误",
        "sex_required" => "该证件不含性别信息，请选择性别",
        "birth_date_required" => "该证件不含出生日期，请填写",
        "sex_mismatch" => "性别与证件号码不符",
        "birth_date_mismatch" => "出生日期与证件号码不符",
        "unknown_bank" => "未登记的银行",
        "unknown_branch" => "未登记的网点",
        "duplicate" => "已存在",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_cookie_then_header() {
        assert_eq!(Lang::choose(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), Lang::Zh);
        assert_eq!(Lang::choose(None, None), Lang::Zh);
        assert_eq!(Tr { lang: Lang::En }.s("login"), "Log in");
        assert_eq!(Tr { lang: Lang::Zh }.s("login"), "登录");
        assert_eq!(Tr { lang: Lang::Zh }.s("no-such-key"), "no-such-key");
        assert_eq!(error_zh("trivial_pin"), Some("密码过于简单（重复或连续数字），请重新设置"));
        assert_eq!(error_zh("no-such-code"), None);
    }
}
