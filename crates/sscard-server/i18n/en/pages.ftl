# sscard pages: English. Every key is in both languages (a unit test checks).

## The frame of every page: title, log-in, navigation, roles, the words of every form.
app = Social Security Card Platform
login = Log in
logout = Log out
username = Username
password = Password
login_failed = Wrong username or password
too_many = Too many failed attempts: wait five minutes
elder_on = Large type
elder_off = Standard type
lang_other = 中文
portal = My card
desk = Bank desk
console = Card office console
dashboard = Dashboard
ok = Done
error = Not done
back = Back
male = male
female = female
when = When
actor = By
skip = Skip to content
role_holder = Cardholder
role_teller = Bank teller
role_clerk = Card office clerk
role_admin = Administrator
role_payer = Benefit payer

## The cardholder's portal: the person, the cards, the applications and what to do with them.
person = Cardholder
name = Name
ssn = Social security number
doc_type = Document type
doc_number = Document number
sex = Sex
birth_date = Birth date
region = Insured region
cards = Cards
card_no = Card number
status = Status
generation = Generation
bank = Bank
branch = Branch
pan = Bank account
expires_on = Valid until
issued_on = Issued on
actions = Actions
applications = Applications
timeline = Progress
kind = Kind
channel = Channel
fee = Fee (yuan)
apply = Apply for a card
apply_online = Apply online (mailed)
apply_branch = Pick up at a branch
mail_address = Mailing address
submit = Submit
activate = Activate
pin = 6-digit PIN
suspend = Report temporary loss
unsuspend = Lift the loss report
report-lost = Report lost
replace = Apply for a replacement
confirm_lost = A card reported lost cannot be used again. Continue?
no_cards = No card yet
no_apps = No application yet
promise = Service promise
promise_met = shipped in time
promise_late = late
promise_open = in progress
working_days = working days

## The bank desk and the card office console.
find_person = Find a cardholder
find = Find
not_found = Not found
register = Register a person
take_application = Take an application
instant = Instant issuance (card printed now)
queue = Bank queue
hand_over = Hand over
fee_due = Replacement fee to collect
review = Review queue
approve = Approve
reject = Reject
produce = Send to card bureau
ready = Ready at branch
ship = Ship
deliver = Delivered
collect = Collect
withdraw = Withdraw
jobs = Jobs
run = Run now
auto_lift = Automatic lift of temporary loss
dormant_sweep = Dormant card sweep
temporary_expiry = Temporary card expiry
stop_card = Cross-region stop
reason = Reason
stop = Stop
audit_trail = Audit trail of a card
show = Show
batch = Employer batch issuance
batch_hint = CSV file (the first line is the header) with the columns:
batch_line_failed = Line { $line }: { $reason }
upload = Upload and apply
progress = Progress
done = Done
failed = Failed
collect_fee = Collect in cash
fee_collected = Fee collected

## The dashboard's charts.
persons = Persons
cards_by_status = Cards by status
cards_by_generation = Cards by generation
cards_by_bank = Cards by bank
apps_by_channel = Applications by channel
apps_by_status = Applications by status
apps_over_time = Applications per week by channel
last_12_weeks = last 12 weeks
ecard_rate = E-card issuance rate
cards_active = Active cards
ecards_usable = Usable e-cards
usage_by_scenario = Card uses by scenario
usage_by_presentation = Physical card vs e-card
usage_refused_by_scenario = Refused uses by scenario

## The electronic card: the QR code, the channels and family members it is signed to.
ecard = Electronic card
show_qr = Show my QR code
no_ecard = The electronic card is issued when a card is activated
ecard_qr = E-card QR code
qr_valid = valid for
qr_refresh = refreshes itself before it expires
authorizations = Authorizations
no_auths = No authorization
auth_channel = Signed in to
auth_family = Family member
revoke = Revoke
revoked = revoked
channel_name = App channel
sign_in_channel = Sign in to this channel
family_qr = Family: QR codes I may show
family_ssn = Family member's social security number
grant_family = Let this family member show my QR code

## Balances, movements and card uses.
balances = Balances
no_accounts = No account yet
yuan = yuan
history = Latest movements
uses = Card uses (who checked my card)
no_uses = No use yet
benefits = My benefits
no_benefits = No benefit has been paid to your card yet
certify_now = Certify now
certify_hint = Pensions need a yearly eligibility certification
ok_certified = Certified: your benefits keep being paid until { $until }
benefit_period = Month
benefit_program = Program
benefit_amount = Amount (yuan)
benefit_account = Paid to account
benefit_status = Status
bk_pension = Pension
bk_unemployment = Unemployment benefit
bk_injury = Work-injury benefit
bk_subsidy = Subsidy
bk_tax_refund = Tax refund
bk_housing = Housing subsidy
bs_paid = Paid
bs_returned = Returned by the bank
reads = Who saw my data
no_reads = No staff member has seen your full ID numbers
download_my_data = Download my data
download_my_data_hint = everything sscard holds about you, as one JSON file
reader = Seen by
read_what = How
reader_teller = Bank teller
reader_clerk = Card office clerk
reader_admin = Administrator
read_person = Opened your record
read_person_by_number = Looked you up by your number
scenario = Scenario
operator = Operator
presented = Presented as
acct_ewallet = E-wallet
acct_medical = Medical personal account
acct_bank = Bank account (movements)
acct_pool = Pool
acct_fees = Fees
acct_payer = Payer
acct_clearing = Clearing
acct_cash = Cash
sc_identity = identity
sc_medical = medical
sc_transit = transit
sc_library = library
sc_park = park

## Card and application statuses, application kinds and channels.
st_produced = made
st_issued = handed over, not active
st_active = active
st_suspended = temporarily reported lost
st_lost = reported lost
st_replaced = replaced
st_stopped = stopped
st_dormant = dormant
st_cancelled = cancelled
st_submitted = submitted
st_awaiting_remote_stop = waiting for the other region to stop the old card
st_approved = approved
st_rejected = rejected
st_in_production = in production
st_ready_for_pickup = ready for pickup
st_shipped = shipped
st_delivered = delivered
st_collected = collected
st_withdrawn = withdrawn
k_first = first card
k_upgrade = upgrade
k_replacement = replacement
k_temporary = temporary
c_branch = branch
c_branch_instant = instant at branch
c_kiosk = kiosk
c_online = online
c_door_to_door = door to door
c_employer_batch = employer batch
c_newborn = newborn
c_cross_province = cross-province

## Error pages
go_home = Go to the home page
page_not_found = Page not found
page_not_found_detail = There is no page at this address: check it, or start from the home page.
page_forbidden = This page is not for you
page_forbidden_detail = This page is not for your role: go back to your home page.
page_expired = The form expired
page_expired_detail = The form expired or came from another site: reload the page and try again.
page_bad_request = The request could not be understood
page_bad_request_detail = The address or the form is incomplete or wrong: go back and try again.

## Result banners
ok_applied = Application submitted ({ $kind }), now: { $status }
ok_card = Card { $card } is now: { $status }
ok_step = The application is now: { $status }
ok_instant = Card made and handed over at once: { $card } ({ $status })
ok_registered = Registered, social security number { $ssn }
ok_channel = Signed in to the channel: { $channel }
ok_revoked = Authorization revoked
ok_family = This family member may now show your QR code
ok_job = { $job }: examined { $examined }, changed { $changed }, failures { $failures }
ok_fee = Replacement fee collected: { $yuan } yuan

## Document types
doc_resident_id = Resident ID card
doc_residence_permit = Residence permit (Hong Kong, Macau, Taiwan)
doc_foreign_permanent_id = Foreigner's permanent residence ID
doc_passport = Passport
doc_hk_macau_travel_permit = Travel permit (Hong Kong, Macau residents)
doc_taiwan_travel_permit = Travel permit (Taiwan residents)
doc_foreign_work_permit = Foreigner's work permit

## The e-card by the card's state
no_ecard_none = Apply for a card and activate it to use the electronic card
no_ecard_suspended = While the card is reported temporarily lost, the electronic card is paused; it works again when the report is lifted
no_ecard_lost = The card was reported lost and the electronic card is stopped; it works again once a replacement card is activated
no_ecard_stopped = The card is stopped and the electronic card cannot be used; ask at a branch or the card office

## Who took a step, as a holder sees it
by_office = Social security card office

## Money and card uses
move_dir = In or out
move_kind = Kind
move_amount = Amount (yuan)
move_in = Income
move_out = Expense
use_ok = Accepted
use_refused = Refused
pr_card = Card
pr_qr = E-card QR code
tk_topup = Top-up
tk_fare = Fare
tk_medical_pool = Paid by the medical pool
tk_medical_account = Paid from the medical account
tk_medical_self_pay = Medical, paid by you
tk_medical_refund = Medical refund
tk_park_entry = Park entry
tk_park_pass = Park annual pass
tk_deposit = Deposit
tk_fee = Fee
tk_migration = Balance moved
tk_wallet_refund = Wallet refund
tk_benefit = Benefit paid
rf_card_suspended = Card temporarily reported lost
rf_card_lost = Card reported lost
rf_card_stopped = Card stopped
rf_card_cancelled = Card cancelled
rf_card_replaced = Card replaced
rf_card_dormant = Dormant card
rf_card_not_active = Card not activated
rf_card_expired = Card expired
rf_temporary_card_other_region = A temporary card is not valid in another region
rf_unknown_card = Unknown card
rf_revoked = Electronic card stopped
rf_malformed = Unreadable QR code
rf_unknown_key = Unknown QR signing key
rf_key_not_valid = QR signing key no longer valid
rf_bad_signature = Invalid QR signature
rf_expired = QR code expired
rf_not_yet_valid = QR code not yet valid
rf_not_active = Electronic card not active
rf_card_or_token = Record without card or QR code
rf_time_in_future = Record time in the future
rf_too_old = Record too old
rf_bad_fare = Wrong fare
rf_insufficient_balance = Insufficient balance
rf_foreign_card_not_payable = Card of another card office: cannot pay here
rf_foreign_card_local_only = Card of another card office: served where it was issued

## The audit trail of a card
au_action = Event
au_detail = Details
au_sealed = Sealed (SM3)
au_f_by = New card
au_f_replaced = Replaced card
au_card_produced = Made
au_card_issued = Handed over
au_card_activated = Activated
au_card_suspended = Temporarily reported lost
au_card_unsuspended = Temporary loss lifted
au_card_lost = Reported lost
au_card_replaced = Replaced
au_card_stopped = Stopped
au_card_cancelled = Cancelled
au_card_dormant = Became dormant
au_card_imported = Imported

## The login page of a demo server
demo_logins = Demo accounts
demo_password = This server runs the demo; the password of every account below is

## Elder mode: the most-used actions first
quick_actions = Most used
balances_benefits = Balances and benefits

## Chart axes
axis_week = First day of each week (last 12 weeks)
axis_applications = Applications
tk_float = Cash float

## The header
settings_nav = Language and type size

## Hand-over, loss at the desk, the customer's PIN entry, review reasons
desk_who = Applicant
desk_holder_doc = Collector's document number
desk_fee_waived = Waived
desk_customer_pin = Cardholder sets the PIN
desk_confirm_unsuspend = Identity checked: lift the temporary loss?
pin_entry_title = Cardholder: set your PIN
pin_entry_hint = Hand this screen to the cardholder, who types the 6-digit PIN twice; the teller never types it.
pin_again = PIN again
reject_reason = Reason for rejecting
waiver_reason = Reason for waiving
waive_fee = Waive the fee
ok_fee_waived = Fee waived: the card may be handed over

## The QR code
qr_valid_for = valid for { $seconds } seconds

## Benefit batches (payer staff and the card office)
bb_title = Benefit batches
bb_link = Benefit batches of every payer
bb_all_payers = Batches of every payer
bb_own = Your organisation's batches
bb_none = No batch yet
bb_payer = Payer
bb_batch = Batch
bb_progress = Lines decided / declared
bb_declared_yuan = Declared total (yuan)
bb_summary = Progress and results
bb_outcome = Result
bb_lines = Lines
bb_any_outcome = Every result
bb_show = Show
bb_no_lines = No line with this result
bb_line_id = Line
bb_ssn = Social security number (masked)
bb_next = Next lines
bb_st_receiving = receiving its lines
bb_st_processing = being paid
bb_st_done = done
bo_paid = Paid
bo_unknown_person = Refused: unknown person
bo_name_mismatch = Refused: name differs
bo_no_financial_account = Refused: no bank account on the card
bo_deceased = Refused: deceased
bo_duplicate = Refused: already paid
bo_certification_overdue = Refused: certification overdue
bo_pending = Not decided yet
bb_bank_answer = Bank's answer
bb_bank_credited = Credited
bb_bank_returned = Returned
