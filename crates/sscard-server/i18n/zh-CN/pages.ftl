# sscard pages: 简体中文. Every key is in both languages (a unit test checks).

## The frame of every page: title, log-in, navigation, roles, the words of every form.
app = 社会保障卡服务平台
login = 登录
logout = 退出
username = 用户名
password = 密码
login_failed = 用户名或密码错误
too_many = 失败次数过多，请五分钟后再试
elder_on = 长辈版
elder_off = 标准版
lang_other = English
portal = 我的社保卡
desk = 银行网点柜台
console = 经办控制台
dashboard = 统计看板
ok = 办理成功
error = 未能办理
back = 返回
male = 男
female = 女
when = 时间
actor = 经办人
skip = 跳到正文
role_holder = 持卡人
role_teller = 银行柜员
role_clerk = 社保经办
role_admin = 管理员
role_payer = 待遇发放机构

## The cardholder's portal: the person, the cards, the applications and what to do with them.
person = 持卡人
name = 姓名
ssn = 社会保障号码
doc_type = 证件类型
doc_number = 证件号码
sex = 性别
birth_date = 出生日期
region = 参保地
cards = 我的卡
card_no = 卡号
status = 状态
generation = 代别
bank = 银行
branch = 网点
pan = 银行账号
expires_on = 有效期至
issued_on = 发卡日期
actions = 操作
applications = 申领记录
timeline = 制卡进度
kind = 申领类型
channel = 申领渠道
fee = 费用（元）
apply = 申领社保卡
apply_online = 网上申领（邮寄）
apply_branch = 到网点领取
mail_address = 邮寄地址
submit = 提交
activate = 启用
pin = 6位密码
suspend = 临时挂失
unsuspend = 解除挂失
report-lost = 正式挂失
replace = 申请补卡
confirm_lost = 正式挂失后此卡不能恢复，确定吗？
no_cards = 暂无社保卡
no_apps = 暂无申领记录
promise = 承诺时限
promise_met = 已按时寄出
promise_late = 已超时
promise_open = 办理中
working_days = 个工作日

## The bank desk and the card office console.
find_person = 查找持卡人
find = 查找
not_found = 未找到
register = 登记新人员
take_application = 受理申领
instant = 立等可取（即时制卡）
queue = 本行待办队列
hand_over = 发放（领卡）
fee_due = 应收补卡费
review = 待审核
approve = 通过
reject = 驳回
produce = 送制卡
ready = 已到网点
ship = 寄出
deliver = 已送达
collect = 领取
withdraw = 撤回
jobs = 定时任务
run = 立即执行
auto_lift = 临时挂失到期自动解挂
dormant_sweep = 睡眠卡清理
temporary_expiry = 临时卡到期
stop_card = 异地停用
reason = 原因
stop = 停用
audit_trail = 卡片审计记录
show = 查看
batch = 单位批量申领
batch_hint = CSV 文件（首行为表头），各列依次为：
batch_line_failed = 第 { $line } 行：{ $reason }
upload = 上传并申领
progress = 进度
done = 完成
failed = 失败
collect_fee = 收取现金
fee_collected = 已收费

## The dashboard's charts.
persons = 登记人数
cards_by_status = 按状态统计卡片
cards_by_generation = 按代别统计卡片
cards_by_bank = 按银行统计卡片
apps_by_channel = 按渠道统计申领
apps_by_status = 按状态统计申领
apps_over_time = 各渠道申领趋势（每周）
last_12_weeks = 最近12周
ecard_rate = 电子社保卡签发率
cards_active = 正常使用的卡
ecards_usable = 可用的电子社保卡
usage_by_scenario = 按场景统计用卡
usage_by_presentation = 实体卡与电子社保卡
usage_refused_by_scenario = 按场景统计被拒绝的用卡

## The electronic card: the QR code, the channels and family members it is signed to.
ecard = 电子社保卡
show_qr = 出示二维码
no_ecard = 启用社保卡后即可使用电子社保卡
ecard_qr = 电子社保卡二维码
qr_valid = 有效期
qr_refresh = 到期前自动刷新
authorizations = 授权管理
no_auths = 暂无授权
auth_channel = 渠道签发
auth_family = 亲情服务
revoke = 解除
revoked = 已解除
channel_name = 应用渠道名称
sign_in_channel = 签发到该渠道
family_qr = 亲情服务：可代为出示的二维码
family_ssn = 家人的社会保障号码
grant_family = 授权家人出示我的二维码

## Balances, movements and card uses.
balances = 账户余额
no_accounts = 暂无账户
yuan = 元
history = 最近收支
uses = 用卡记录（谁查验了我的卡）
no_uses = 暂无用卡记录
benefits = 我的待遇
no_benefits = 暂无发放到您社保卡的待遇
certify_now = 立即认证
certify_hint = 领取养老金需每年进行待遇资格认证
ok_certified = 认证成功：您的待遇将继续发放至 { $until }
benefit_period = 月份
benefit_program = 待遇项目
benefit_amount = 金额（元）
benefit_account = 发放账户
benefit_status = 状态
bk_pension = 养老金
bk_unemployment = 失业保险金
bk_injury = 工伤保险待遇
bk_subsidy = 补贴
bk_tax_refund = 个税退税
bk_housing = 住房补贴
bs_paid = 已发放
bs_returned = 银行退回
reads = 谁查看了我的信息
no_reads = 暂无工作人员查看过您的完整证件号码
download_my_data = 下载我的数据
download_my_data_hint = 本平台保存的您的全部信息，一个 JSON 文件
reader = 查看人
read_what = 查看方式
reader_teller = 银行柜员
reader_clerk = 社保经办人员
reader_admin = 系统管理员
read_person = 查看个人信息
read_person_by_number = 按证件号码查询
scenario = 场景
operator = 机构
presented = 方式
acct_ewallet = 电子钱包
acct_medical = 医保个人账户
acct_bank = 银行账户往来
acct_pool = 统筹基金
acct_fees = 手续费
acct_payer = 付款方
acct_clearing = 清算
acct_cash = 现金
sc_identity = 身份核验
sc_medical = 医疗结算
sc_transit = 公共交通
sc_library = 图书馆
sc_park = 公园

## Card and application statuses, application kinds and channels.
st_produced = 已制卡
st_issued = 已发放（未启用）
st_active = 正常
st_suspended = 临时挂失
st_lost = 正式挂失
st_replaced = 已换卡
st_stopped = 已停用
st_dormant = 睡眠卡
st_cancelled = 已注销
st_submitted = 已提交
st_awaiting_remote_stop = 待原参保地停用旧卡
st_approved = 已审核
st_rejected = 已驳回
st_in_production = 制卡中
st_ready_for_pickup = 待领取
st_shipped = 已寄出
st_delivered = 已送达
st_collected = 已领取
st_withdrawn = 已撤回
k_first = 首次申领
k_upgrade = 换代（二代换三代）
k_replacement = 补换卡
k_temporary = 临时卡
c_branch = 网点
c_branch_instant = 网点即时制卡
c_kiosk = 自助机
c_online = 网上
c_door_to_door = 上门服务
c_employer_batch = 单位批量
c_newborn = 新生儿
c_cross_province = 跨省通办

## Error pages
go_home = 返回首页
page_not_found = 未找到该页面
page_not_found_detail = 您访问的地址不存在，请检查地址或从首页进入。
page_forbidden = 无权访问该页面
page_forbidden_detail = 该页面不面向您的账号角色，请返回您的首页。
page_expired = 表单已过期
page_expired_detail = 表单已过期或来自其他网站：请刷新页面后重试。
page_bad_request = 无法处理该请求
page_bad_request_detail = 地址或表单内容不完整或有误，请返回后重试。

## Result banners
ok_applied = 已提交申领（{ $kind }），当前状态：{ $status }
ok_card = 卡号 { $card } 当前状态：{ $status }
ok_step = 申领当前状态：{ $status }
ok_instant = 已即时制卡并发放：卡号 { $card }（{ $status }）
ok_registered = 已登记，社会保障号码 { $ssn }
ok_channel = 已签发到渠道：{ $channel }
ok_revoked = 已解除授权
ok_family = 已授权该家人出示您的二维码
ok_job = { $job }：检查 { $examined } 项，变更 { $changed } 项，失败 { $failures } 项
ok_fee = 已收取补卡费 { $yuan } 元

## Document types
doc_resident_id = 居民身份证
doc_residence_permit = 港澳台居民居住证
doc_foreign_permanent_id = 外国人永久居留身份证
doc_passport = 护照
doc_hk_macau_travel_permit = 港澳居民来往内地通行证
doc_taiwan_travel_permit = 台湾居民来往大陆通行证
doc_foreign_work_permit = 外国人工作许可证

## The e-card by the card's state
no_ecard_none = 申领并启用社保卡后即可使用电子社保卡
no_ecard_suspended = 社保卡临时挂失期间，电子社保卡暂停使用；解除挂失后即可恢复
no_ecard_lost = 社保卡已正式挂失，电子社保卡已停用；补领新卡并启用后可重新使用
no_ecard_stopped = 社保卡已停用，电子社保卡不可使用；请到网点或社保经办机构咨询

## Who took a step, as a holder sees it
by_office = 社保经办机构

## Money and card uses
move_dir = 收支
move_kind = 类型
move_amount = 金额（元）
move_in = 收入
move_out = 支出
use_ok = 通过
use_refused = 未通过
pr_card = 实体卡
pr_qr = 电子社保卡二维码
tk_topup = 充值
tk_fare = 乘车
tk_medical_pool = 医保统筹支付
tk_medical_account = 医保个人账户支付
tk_medical_self_pay = 医疗自付
tk_medical_refund = 医疗退费
tk_park_entry = 公园入园
tk_park_pass = 公园年卡
tk_deposit = 存入
tk_fee = 手续费
tk_migration = 余额迁移
tk_wallet_refund = 钱包退款
tk_benefit = 待遇发放
rf_card_suspended = 卡已临时挂失
rf_card_lost = 卡已正式挂失
rf_card_stopped = 卡已停用
rf_card_cancelled = 卡已注销
rf_card_replaced = 卡已更换
rf_card_dormant = 睡眠卡
rf_card_not_active = 卡未启用
rf_card_expired = 卡已过有效期
rf_temporary_card_other_region = 临时卡不能在外地使用
rf_unknown_card = 未知的卡
rf_revoked = 电子社保卡已停用
rf_malformed = 二维码无法识别
rf_unknown_key = 二维码签名密钥未知
rf_key_not_valid = 二维码签名密钥已失效
rf_bad_signature = 二维码签名无效
rf_expired = 二维码已过期
rf_not_yet_valid = 二维码尚未生效
rf_not_active = 电子社保卡未启用
rf_card_or_token = 记录缺少卡号或二维码
rf_time_in_future = 记录时间晚于当前时间
rf_too_old = 记录过旧
rf_bad_fare = 票价有误
rf_insufficient_balance = 余额不足
rf_foreign_card_not_payable = 外地卡，不能在此支付
rf_foreign_card_local_only = 外地卡，请到发卡地办理

## The audit trail of a card
au_action = 事项
au_detail = 详情
au_sealed = 已封存（SM3）
au_f_by = 新卡
au_f_replaced = 替换的卡
au_card_produced = 制卡
au_card_issued = 发放
au_card_activated = 启用
au_card_suspended = 临时挂失
au_card_unsuspended = 解除临时挂失
au_card_lost = 正式挂失
au_card_replaced = 换卡
au_card_stopped = 停用
au_card_cancelled = 注销
au_card_dormant = 转为睡眠卡
au_card_imported = 导入

## The login page of a demo server
demo_logins = 演示账号
demo_password = 本服务器为演示环境，以下账号的密码均为

## Elder mode: the most-used actions first
quick_actions = 常用服务
balances_benefits = 查看余额和待遇

## Chart axes
axis_week = 每周起始日期（最近12周）
axis_applications = 申领数（件）
tk_float = 备用金

## The header
settings_nav = 语言与字号

## Hand-over, loss at the desk, the customer's PIN entry, review reasons
desk_who = 申请人
desk_holder_doc = 领卡人证件号码
desk_fee_waived = 已减免
desk_customer_pin = 请持卡人设置密码
desk_confirm_unsuspend = 已核实持卡人身份，确定解除挂失吗？
pin_entry_title = 请持卡人本人设置密码
pin_entry_hint = 请将此屏幕交给持卡人，由持卡人本人输入两次6位密码；柜员请勿代输。
pin_again = 再次输入密码
reject_reason = 驳回原因
waiver_reason = 减免原因
waive_fee = 减免费用
ok_fee_waived = 已减免费用，可发放卡片

## The QR code
qr_valid_for = 有效期 { $seconds } 秒

## 待遇发放批次（发放机构与经办机构）
bb_title = 待遇发放批次
bb_link = 各发放机构的待遇发放批次
bb_all_payers = 各发放机构的批次
bb_own = 本机构的批次
bb_none = 暂无批次
bb_payer = 发放机构
bb_batch = 批次
bb_progress = 已处理行数 / 申报行数
bb_declared_yuan = 申报总额（元）
bb_summary = 进度与结果
bb_outcome = 结果
bb_lines = 明细
bb_any_outcome = 全部结果
bb_show = 查看
bb_no_lines = 没有该结果的明细
bb_line_id = 明细号
bb_ssn = 社会保障号码（已遮蔽）
bb_next = 下一页
bb_st_receiving = 接收中
bb_st_processing = 发放中
bb_st_done = 已完成
bo_paid = 已发放
bo_unknown_person = 拒付：查无此人
bo_name_mismatch = 拒付：姓名不符
bo_no_financial_account = 拒付：卡未开通银行账户
bo_deceased = 拒付：已故
bo_duplicate = 拒付：重复发放
bo_certification_overdue = 拒付：资格认证逾期
bo_pending = 尚未处理
bb_bank_answer = 银行回复
bb_bank_credited = 已入账
bb_bank_returned = 已退回
