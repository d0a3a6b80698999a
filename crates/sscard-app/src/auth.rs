//! Logins and sessions. Bearer tokens are random; only their SM3 hash is stored.

use sscard_domain::access::{Actor, Role};
use sscard_store::Result;
use sscard_store::model::{Session, User};
use sscard_store::tx::Store;

/// How long a session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;

pub fn token_hash(token: &str) -> String {
    hex::encode(sscard_gm::sm3::sm3(token.as_bytes()))
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct LoginResult {
    pub token: String,
    pub actor: Actor,
    pub expires_at_ms: i64,
}

/// Checks the password; None for an unknown user or a wrong password (the caller cannot tell which).
pub async fn login(store: &dyn Store, username: &str, password: &str, now_ms: i64) -> Result<Option<LoginResult>> {
    let mut tx = store.read().await?;
    let user = tx.get_user(username).await?;
    tx.commit().await?;
    let Some(user) = user else {
        // Spend the same time as a real check so usernames cannot be probed by timing.
        let _ = sscard_gm::password::verify_password(password, dummy_hash());
        return Ok(None);
    };
    if !sscard_gm::password::verify_password(password, &user.password_hash) {
        return Ok(None);
    }
    session_for(store, user, now_ms).await.map(Some)
}

/// Opens a session for an account already identified (password or QR login).
pub async fn session_for(store: &dyn Store, user: User, now_ms: i64) -> Result<LoginResult> {
    let token = sscard_gm::rand::random_token();
    let session = Session {
        token_hash: token_hash(&token),
        username: user.username.clone(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms + SESSION_TTL_MS,
    };
    let mut tx = store.write().await?;
    tx.insert_session(&session).await?;
    let actor = actor_of(tx.as_mut(), user).await?;
    tx.commit().await?;
    Ok(LoginResult { token, actor, expires_at_ms: session.expires_at_ms })
}

/// The actor behind a bearer token, if the session is live.
pub async fn authenticate(store: &dyn Store, token: &str, now_ms: i64) -> Result<Option<Actor>> {
    let mut tx = store.read().await?;
    let Some(session) = tx.get_session(&token_hash(token)).await? else {
        return Ok(None);
    };
    if session.expires_at_ms <= now_ms {
        return Ok(None);
    }
    let user = tx.get_user(&session.username).await?;
    let actor = match user {
        Some(u) => Some(actor_of(tx.as_mut(), u).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(actor)
}

/// The actor of a login: a teller carries their bank, payer staff their payer (in the same
/// field: the organisation they work for).
async fn actor_of(tx: &mut (impl sscard_store::ports::Benefits + ?Sized), user: User) -> Result<Actor> {
    let org = match user.role {
        Role::Payer => crate::benefits::payer_of_user(tx, &user.username).await?,
        _ => user.bank_code,
    };
    Ok(Actor { name: user.username, role: user.role, person_id: user.person_id, bank_code: org })
}

pub async fn logout(store: &dyn Store, token: &str) -> Result<()> {
    let mut tx = store.write().await?;
    tx.delete_session(&token_hash(token)).await?;
    tx.commit().await
}

/// A hash of a random password, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        sscard_gm::password::hash_password(
            &sscard_gm::rand::random_token(),
            sscard_gm::password::DEFAULT_PASSWORD_ITERATIONS,
        )
    })
}
