//! The one harness of the CLI tests: a fresh database for each test (a temporary SQLite file,
//! or with `SSCARD_TEST_DATABASE=postgres` a PostgreSQL database of its own where a test asks
//! for it), the real `sscard` binary run against it (with or without stdin), `sscard serve`
//! started on a free port, and a direct handle on the same database.

use sscard_store::Store;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The master key the PostgreSQL run gives the binary (SQLite keeps a key file beside the database).
pub const TEST_MASTER_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The test database and everything sscard puts beside it, removed at the end.
pub enum Db {
    Sqlite(sscard_store_sql::sqlite::TempDatabase),
    Postgres(sscard_store_sql::postgres::TempDatabase),
}

impl Db {
    /// A temporary SQLite file, or a PostgreSQL database of its own with
    /// SSCARD_TEST_DATABASE=postgres.
    pub fn new() -> Db {
        match std::env::var("SSCARD_TEST_DATABASE").as_deref() {
            Ok("postgres") | Ok("postgresql") => Db::Postgres(
                rt().block_on(sscard_store_sql::postgres::TempDatabase::create()).expect("a PostgreSQL test database"),
            ),
            _ => Db::sqlite(),
        }
    }

    /// Always a temporary SQLite file.
    pub fn sqlite() -> Db {
        Db::Sqlite(sscard_store_sql::sqlite::TempDatabase::new())
    }

    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(d) => d.url(),
            Db::Postgres(d) => d.url(),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        // Key files or other companions named after the database file.
        let Db::Sqlite(db) = self else { return };
        let path = &db.path;
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str()))
            && let Ok(entries) = std::fs::read_dir(dir)
        {
            for e in entries.flatten() {
                if e.file_name().to_str().is_some_and(|f| f.starts_with(name) && f != name) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

/// `sscard --database-url URL ARGS...` with a clean environment (the PostgreSQL run gets
/// [`TEST_MASTER_KEY`]).
pub fn command(db: &Db, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sscard"));
    cmd.arg("--database-url").arg(db.url()).args(args);
    cmd.env_remove("SSCARD_DATABASE_URL").env_remove("SSCARD_MASTER_KEY").env("SSCARD_LOG", "warn");
    if let Db::Postgres(_) = db {
        cmd.env("SSCARD_MASTER_KEY", TEST_MASTER_KEY);
    }
    cmd
}

/// Runs `sscard --database-url URL ARGS...` with no stdin.
pub fn run(db: &Db, args: &[&str]) -> Output {
    command(db, args).stdin(Stdio::null()).output().expect("run sscard")
}

/// Runs `sscard --database-url URL ARGS...`, feeding `stdin` if given.
pub fn sscard(db: &Db, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = command(db, args);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the sscard binary");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            // A command that fails before reading its input (e.g. a usage error) closes the pipe.
            match pipe.write_all(s.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
                _ => {}
            }
        }
    }
    child.wait_with_output().expect("wait for sscard")
}

/// Standard output.
pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error.
pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Standard output and standard error together.
pub fn text(o: &Output) -> String {
    format!("{}{}", out(o), err(o))
}

/// Asserts the exit code, with both outputs in the message.
#[track_caller]
pub fn exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", out(o), err(o));
}

/// Asserts success and answers standard output.
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    out(o)
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The data keys the binary uses on this database: [`TEST_MASTER_KEY`] on PostgreSQL, the key
/// file beside a SQLite database (created here if the binary has not made it yet).
pub fn data_keys(db: &Db) -> sscard_store_sql::DataKeys {
    let master = match db {
        Db::Postgres(_) => sscard_server::keys::MasterKey::from_hex(TEST_MASTER_KEY).expect("the test master key"),
        Db::Sqlite(_) => {
            let file = sscard_server::keys::default_key_file(&db.url()).expect("a SQLite key file path");
            sscard_server::keys::MasterKey::from_file(&file).expect("the database's master key file")
        }
    };
    master.data_keys()
}

/// A direct handle on the test database (close it before the binary needs the file alone).
pub async fn open(db: &Db) -> Arc<dyn Store> {
    sscard_store_sql::open(&db.url(), data_keys(db)).await.expect("open the test database")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Starts `sscard serve` and waits until it answers.
pub fn serve(db: &Db, port: u16) -> Child {
    let listen = format!("127.0.0.1:{port}");
    let mut child = command(db, &["serve", "--listen", &listen])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sscard serve");
    let started = Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("sscard serve did not start");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}
