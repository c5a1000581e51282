//! Accounts, sessions, sign-in throttling and the audit log: one SQLite database
//! (`accounts.db`) in the state directory, outside the lake.
//!
//! - **Passwords** are kept as argon2id hashes (PHC strings); none is made up by default: a
//!   new account or a reset gets a random password that is shown once.
//! - **Sessions**: a random 256-bit token in the browser's cookie; the database keeps only
//!   its SHA-256, with the session's CSRF token, when it started and when it was last used.
//!   A session ends after [`IDLE`] unused or [`LIFETIME`] in all, when its account is
//!   disabled or its password reset, and on signing out. Signing in always starts a new
//!   session (a token planted before cannot be raised to a signed-in one).
//! - **Throttling**: after [`FAILURES_PER_LOGIN`] failed sign-ins of an account, or
//!   [`FAILURES_PER_ADDRESS`] from one address, within [`THROTTLE_WINDOW`], further tries are
//!   refused (without looking at the password) until the window has passed.
//! - **Audit**: who did what, when, on which scope and from where; the table refuses updates
//!   and deletes (triggers), so the log only grows.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::access::{Principal, Role};
use crate::reads::Scope;

/// A session unused this long ends.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session ends this long after signing in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins of one account within [`THROTTLE_WINDOW`] after which it is refused.
pub const FAILURES_PER_LOGIN: i64 = 5;
/// Failed sign-ins from one address within [`THROTTLE_WINDOW`] after which it is refused.
pub const FAILURES_PER_ADDRESS: i64 = 20;
/// How far back failed sign-ins count.
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The shortest password an account may be given.
pub const MIN_PASSWORD: usize = 12;

/// Why an account operation failed, and whose fault it is.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The user asked for something that cannot be (a taken login, a short password).
    #[error("{0}")]
    Invalid(String),
    /// No account has that login.
    #[error("no account '{0}'")]
    Unknown(String),
    /// The database in the state directory could not be read or written.
    #[error("accounts database {path}: {source}")]
    Store {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// Hashing a password failed (ours).
    #[error("password hashing: {0}")]
    Hash(String),
}

pub type Result<T, E = AccountError> = std::result::Result<T, E>;

/// An account as stored (never its password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub scope: Scope,
    pub disabled: bool,
    /// When it was created, RFC 3339 in UTC.
    pub created: String,
    /// A researcher granted the pseudonymised rows per student of its scope.
    pub rows: bool,
}

impl Account {
    /// Who this account reads as.
    pub fn principal(&self) -> Principal {
        Principal {
            role: self.role,
            scope: self.scope.clone(),
            rows: self.rows,
        }
    }
}

/// A scope as one text: `bureau`, `district:长安区`, `school:S001`.
pub fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Bureau => "bureau".into(),
        Scope::District(d) => format!("district:{d}"),
        Scope::School(s) => format!("school:{s}"),
    }
}

fn scope_parse(text: &str) -> Scope {
    match text.split_once(':') {
        Some(("district", d)) => Scope::District(d.to_string()),
        Some(("school", s)) => Scope::School(s.to_string()),
        _ => Scope::Bureau,
    }
}

/// A session just started: the token for the cookie (shown to nobody else) and the
/// session's CSRF token for its forms.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A session found by its token.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf: String,
}

/// What a sign-in came to.
#[derive(Debug)]
pub enum SignIn {
    /// The password was right: a new session.
    Started(Account, NewSession),
    /// Wrong login or password (which of the two is not said), or a disabled account.
    Refused,
    /// Too many failures lately: try again after this many seconds.
    Throttled(u64),
}

/// One line of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    /// When, RFC 3339 in UTC (filled on writing).
    pub at: String,
    /// The account's login, or empty for someone not signed in.
    pub login: String,
    pub role: String,
    /// What was done: `sign_in`, `page`, `upload`, `download`, `sql`, `account_add`, …
    pub action: String,
    /// What it was done to: a path, a file's name, a query, an account.
    pub target: String,
    /// The scope it was done on (`bureau`, `district:…`, `school:…`).
    pub scope: String,
    /// The address it came from.
    pub address: String,
    /// `ok`, `refused`, `throttled`, `failed`.
    pub outcome: String,
}

/// Which audit lines to read (every field optional, all must match).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub login: Option<String>,
    pub action: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC) on.
    pub from: Option<String>,
    /// Up to and including this day.
    pub to: Option<String>,
    pub limit: usize,
}

/// The accounts database.
pub struct Accounts {
    path: PathBuf,
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    account INTEGER NOT NULL REFERENCES accounts(id),
    csrf TEXT NOT NULL,
    started INTEGER NOT NULL,
    seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_key ON sign_in_failures(key, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    login TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    scope TEXT NOT NULL,
    address TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Random bytes as hex.
fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill(&mut b[..]);
    hex::encode(b)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A password to be shown once: 16 characters from letters and digits that cannot be taken
/// for one another (no 0/O, 1/l/I), about 93 bits.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt[..]);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash no password matches, checked when the login is unknown so that an unknown login
/// takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&generate_password()).unwrap_or_default())
}

fn account_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Account, String)> {
    let role: String = row.get(2)?;
    let scope: String = row.get(3)?;
    Ok((
        Account {
            id: row.get(0)?,
            login: row.get(1)?,
            role: Role::parse(&role).unwrap_or(Role::Researcher),
            scope: scope_parse(&scope),
            disabled: row.get::<_, i64>(5)? != 0,
            created: row.get(6)?,
            rows: row.get::<_, i64>(7)? != 0,
        },
        row.get(4)?,
    ))
}

const ACCOUNT_COLUMNS: &str = "id, login, role, scope, hash, disabled, created, rows";

impl Accounts {
    /// Opens (creating) the accounts database of a state directory.
    pub fn open(state_dir: &Path) -> Result<Accounts> {
        let path = state_dir.join("accounts.db");
        let store = |source| AccountError::Store {
            path: path.clone(),
            source,
        };
        if let Err(e) = std::fs::create_dir_all(state_dir) {
            return Err(AccountError::Invalid(format!(
                "cannot create the state directory {}: {e}",
                state_dir.display()
            )));
        }
        let conn = Connection::open(&path).map_err(store)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(store)?;
        conn.execute_batch(SCHEMA).map_err(store)?;
        // A database made before accounts could be granted rows gains the column.
        if conn.prepare("SELECT rows FROM accounts LIMIT 0").is_err() {
            conn.execute_batch("ALTER TABLE accounts ADD COLUMN rows INTEGER NOT NULL DEFAULT 0")
                .map_err(store)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Accounts {
            path,
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|source| AccountError::Store {
            path: self.path.clone(),
            source,
        })
    }

    /// Creates an account; its password is `password` (at least [`MIN_PASSWORD`]
    /// characters) or a generated one. Returns the password.
    pub fn add(&self, login: &str, who: &Principal, password: Option<String>) -> Result<String> {
        let login = login.trim();
        if login.is_empty()
            || login.chars().count() > 64
            || login.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(AccountError::Invalid(format!(
                "'{login}' cannot be a login: 1 to 64 characters, no spaces"
            )));
        }
        Principal::new(who.role, who.scope.clone())
            .and_then(|p| p.with_rows(who.rows))
            .map_err(|e| AccountError::Invalid(e.to_string()))?;
        let (password, hash) = password_and_hash(password)?;
        let added = self.with(|c| {
            c.execute(
                "INSERT INTO accounts (login, role, scope, hash, disabled, created, rows) \
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT(login) DO NOTHING",
                params![
                    login,
                    who.role.name(),
                    scope_text(&who.scope),
                    hash,
                    now_text(),
                    who.rows as i64
                ],
            )
        })?;
        if added == 0 {
            return Err(AccountError::Invalid(format!(
                "an account '{login}' exists already"
            )));
        }
        Ok(password)
    }

    /// Every account, by login.
    pub fn list(&self) -> Result<Vec<Account>> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY login"
            ))?;
            let rows = st.query_map([], account_from_row)?;
            rows.map(|r| r.map(|(a, _)| a)).collect()
        })
    }

    /// The account of a login.
    pub fn get(&self, login: &str) -> Result<Option<Account>> {
        Ok(self.with_hash(login)?.map(|(a, _)| a))
    }

    fn with_hash(&self, login: &str) -> Result<Option<(Account, String)>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?1"),
                [login],
                account_from_row,
            )
            .optional()
        })
    }

    /// Disables an account and ends its sessions.
    pub fn disable(&self, login: &str) -> Result<()> {
        let changed = self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute("UPDATE accounts SET disabled = 1 WHERE login = ?1", [login])?;
            end_sessions(&tx, login)?;
            tx.commit()?;
            Ok(n)
        })?;
        if changed == 0 {
            return Err(AccountError::Unknown(login.to_string()));
        }
        Ok(())
    }

    /// Gives an account a new password (generated unless given), enables it again and ends
    /// its sessions. Returns the password.
    pub fn reset_password(&self, login: &str, password: Option<String>) -> Result<String> {
        let (password, hash) = password_and_hash(password)?;
        let changed = self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE accounts SET hash = ?2, disabled = 0 WHERE login = ?1",
                params![login, hash],
            )?;
            end_sessions(&tx, login)?;
            tx.execute(
                "DELETE FROM sign_in_failures WHERE key = ?1",
                [format!("login:{login}")],
            )?;
            tx.commit()?;
            Ok(n)
        })?;
        if changed == 0 {
            return Err(AccountError::Unknown(login.to_string()));
        }
        Ok(password)
    }

    /// Whether any account exists (enabled or not).
    pub fn any(&self) -> Result<bool> {
        self.with(|c| c.query_row("SELECT EXISTS (SELECT 1 FROM accounts)", [], |r| r.get(0)))
    }

    /// Whether an enabled `bureau_admin` account exists.
    pub fn has_admin(&self) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT count(*) FROM accounts WHERE role = 'bureau_admin' AND disabled = 0",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| n > 0)
    }

    /// Checks a login and password from an address (slow on purpose: argon2id; call it off
    /// the async threads).
    pub fn sign_in(&self, login: &str, password: &str, address: &str) -> Result<SignIn> {
        let now = now_secs();
        let since = now - THROTTLE_WINDOW.as_secs() as i64;
        let (login_key, address_key) = (format!("login:{login}"), format!("address:{address}"));
        // Counted and recorded as a failure in one step (under the connection's lock), before
        // the password is looked at: tries at the same moment cannot all pass the count.
        let (by_login, by_address, oldest, pending) = self.with(|c| {
            c.execute("DELETE FROM sign_in_failures WHERE at < ?1", [since])?;
            let count = |key: &str| {
                c.query_row(
                    "SELECT count(*), min(at) FROM sign_in_failures WHERE key = ?1 AND at >= ?2",
                    params![key, since],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
                )
            };
            let (l, l_oldest) = count(&login_key)?;
            let (a, a_oldest) = count(&address_key)?;
            let oldest = l_oldest.into_iter().chain(a_oldest).min();
            if l >= FAILURES_PER_LOGIN || a >= FAILURES_PER_ADDRESS {
                return Ok((l, a, oldest, None));
            }
            let tx = c.transaction()?;
            let mut ids = Vec::new();
            for key in [&login_key, &address_key] {
                tx.execute(
                    "INSERT INTO sign_in_failures (key, at) VALUES (?1, ?2)",
                    params![key, now],
                )?;
                ids.push(tx.last_insert_rowid());
            }
            tx.commit()?;
            Ok((l, a, oldest, Some(ids)))
        })?;
        if pending.is_none() || by_login >= FAILURES_PER_LOGIN || by_address >= FAILURES_PER_ADDRESS
        {
            let wait = oldest.unwrap_or(now) + THROTTLE_WINDOW.as_secs() as i64 - now;
            return Ok(SignIn::Throttled(wait.max(1) as u64));
        }
        let found = self.with_hash(login)?;
        let right = match &found {
            Some((_, hash)) => verify_password(password, hash),
            None => {
                verify_password(password, decoy_hash());
                false
            }
        };
        match found {
            Some((account, _)) if right && !account.disabled => {
                // Not a failure after all; and the account's earlier ones are forgiven.
                let pending = pending.unwrap_or_default();
                self.with(|c| {
                    c.execute("DELETE FROM sign_in_failures WHERE key = ?1", [&login_key])?;
                    for id in &pending {
                        c.execute("DELETE FROM sign_in_failures WHERE rowid = ?1", [id])?;
                    }
                    Ok(())
                })?;
                let session = self.start_session(&account)?;
                Ok(SignIn::Started(account, session))
            }
            _ => Ok(SignIn::Refused),
        }
    }

    /// A new session of an account (after its password was checked).
    pub fn start_session(&self, account: &Account) -> Result<NewSession> {
        let session = NewSession {
            token: random_hex(32),
            csrf: random_hex(32),
        };
        let now = now_secs();
        self.with(|c| {
            c.execute(
                "DELETE FROM sessions WHERE started < ?1 OR seen < ?2",
                params![
                    now - LIFETIME.as_secs() as i64,
                    now - IDLE.as_secs() as i64
                ],
            )?;
            c.execute(
                "INSERT INTO sessions (token_sha256, account, csrf, started, seen) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![sha256_hex(&session.token), account.id, session.csrf, now],
            )
        })?;
        Ok(session)
    }

    /// The session of a cookie's token, if it is current (and marks it used).
    pub fn session(&self, token: &str) -> Result<Option<Session>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let key = sha256_hex(token);
        let now = now_secs();
        self.with(|c| {
            let found = c
                .query_row(
                    "SELECT a.id, a.login, a.role, a.scope, s.csrf, a.disabled, a.created, a.rows, s.started, s.seen \
                     FROM sessions s JOIN accounts a ON a.id = s.account WHERE s.token_sha256 = ?1",
                    [&key],
                    |r| Ok((account_from_row(r)?, r.get::<_, i64>(8)?, r.get::<_, i64>(9)?)),
                )
                .optional()?;
            let Some(((account, csrf), started, seen)) = found else {
                return Ok(None);
            };
            if account.disabled
                || started < now - LIFETIME.as_secs() as i64
                || seen < now - IDLE.as_secs() as i64
            {
                c.execute("DELETE FROM sessions WHERE token_sha256 = ?1", [&key])?;
                return Ok(None);
            }
            // Marked at most once a minute: a page's many requests write once.
            if now - seen >= 60 {
                c.execute(
                    "UPDATE sessions SET seen = ?2 WHERE token_sha256 = ?1",
                    params![key, now],
                )?;
            }
            Ok(Some(Session { account, csrf }))
        })
    }

    /// Ends the session of a token.
    pub fn sign_out(&self, token: &str) -> Result<()> {
        let key = sha256_hex(token);
        self.with(|c| c.execute("DELETE FROM sessions WHERE token_sha256 = ?1", [key]))?;
        Ok(())
    }

    /// Appends a line to the audit log (its time is now).
    pub fn audit(&self, entry: &AuditEntry) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO audit (at, login, role, action, target, scope, address, outcome) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    now_text(),
                    entry.login,
                    entry.role,
                    entry.action,
                    truncate(&entry.target, 500),
                    entry.scope,
                    entry.address,
                    entry.outcome
                ],
            )
        })?;
        Ok(())
    }

    /// Lines of the audit log as `who` may read them: the bureau's administrator only.
    pub fn audit_log_as(&self, who: &Principal, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        if who.role != Role::BureauAdmin {
            return Err(AccountError::Invalid(format!(
                "the audit log is the bureau administrator's, not a {}'s",
                who.role.name()
            )));
        }
        self.audit_log(filter)
    }

    /// Lines of the audit log, the newest first.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let limit = if filter.limit == 0 {
            1000
        } else {
            filter.limit
        } as i64;
        let to = filter.to.as_ref().map(|d| format!("{d}T99"));
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT at, login, role, action, target, scope, address, outcome FROM audit \
                 WHERE (?1 IS NULL OR login = ?1) AND (?2 IS NULL OR action = ?2) \
                 AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) \
                 ORDER BY id DESC LIMIT ?5",
            )?;
            let rows = st.query_map(
                params![filter.login, filter.action, filter.from, to, limit],
                |r| {
                    Ok(AuditEntry {
                        at: r.get(0)?,
                        login: r.get(1)?,
                        role: r.get(2)?,
                        action: r.get(3)?,
                        target: r.get(4)?,
                        scope: r.get(5)?,
                        address: r.get(6)?,
                        outcome: r.get(7)?,
                    })
                },
            )?;
            rows.collect()
        })
    }
}

/// Ends every session of a login (in the caller's transaction).
fn end_sessions(tx: &rusqlite::Transaction<'_>, login: &str) -> rusqlite::Result<usize> {
    tx.execute(
        "DELETE FROM sessions WHERE account IN (SELECT id FROM accounts WHERE login = ?1)",
        [login],
    )
}

/// The password given (checked) or a generated one, and its hash.
fn password_and_hash(given: Option<String>) -> Result<(String, String)> {
    let password = match given {
        Some(p) => {
            check_password(&p)?;
            p
        }
        None => generate_password(),
    };
    let hash = hash_password(&password)?;
    Ok((password, hash))
}

fn check_password(p: &str) -> Result<()> {
    if p.chars().count() < MIN_PASSWORD {
        return Err(AccountError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clerk() -> Principal {
        Principal::new(Role::SchoolClerk, Scope::School("S001".into())).unwrap()
    }

    #[test]
    fn a_session_starts_only_with_the_right_password_and_ends_on_disable() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path()).unwrap();
        let password = accounts.add("li", &clerk(), None).unwrap();
        assert_eq!(password.len(), 16);
        assert!(matches!(
            accounts
                .sign_in("li", "wrong password!", "1.2.3.4")
                .unwrap(),
            SignIn::Refused
        ));
        let SignIn::Started(account, session) =
            accounts.sign_in("li", &password, "1.2.3.4").unwrap()
        else {
            panic!("the right password was refused")
        };
        assert_eq!(account.principal(), clerk());
        let found = accounts.session(&session.token).unwrap().unwrap();
        assert_eq!(found.csrf, session.csrf);
        // The database keeps no token that would open the session.
        let db = std::fs::read(dir.path().join("accounts.db")).unwrap();
        assert!(!db.windows(64).any(|w| w == session.token.as_bytes()));
        accounts.disable("li").unwrap();
        assert!(accounts.session(&session.token).unwrap().is_none());
        assert!(matches!(
            accounts.sign_in("li", &password, "1.2.3.4").unwrap(),
            SignIn::Refused
        ));
    }

    #[test]
    fn a_short_password_a_taken_login_and_a_scope_that_does_not_fit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path()).unwrap();
        assert!(accounts.add("li", &clerk(), Some("short".into())).is_err());
        accounts.add("li", &clerk(), None).unwrap();
        assert!(accounts.add("li", &clerk(), None).is_err());
        let wrong = Principal {
            role: Role::SchoolClerk,
            scope: Scope::Bureau,
            rows: false,
        };
        assert!(accounts.add("wang", &wrong, None).is_err());
    }

    #[test]
    fn the_audit_log_cannot_be_changed() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path()).unwrap();
        accounts
            .audit(&AuditEntry {
                action: "sign_in".into(),
                outcome: "ok".into(),
                ..Default::default()
            })
            .unwrap();
        let conn = Connection::open(dir.path().join("accounts.db")).unwrap();
        assert!(conn.execute("UPDATE audit SET outcome = 'x'", []).is_err());
        assert!(conn.execute("DELETE FROM audit", []).is_err());
        assert_eq!(
            accounts.audit_log(&AuditFilter::default()).unwrap().len(),
            1
        );
    }
}
