//! `edulake users add|list|disable|reset-password`: the cockpit's accounts.

use std::io::BufRead;
use std::process::ExitCode;

use edulake_transform::access::{Principal, Role};
use edulake_transform::reads::Scope;

use crate::accounts::{scope_text, Accounts};
use crate::cli::UsersAction;
use crate::Env;

/// The principal a role and a school or district name: the bureau roles see the bureau.
pub fn principal_of(
    role: &str,
    school: Option<String>,
    district: Option<String>,
) -> anyhow::Result<Principal> {
    let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("unknown role '{role}'"))?;
    let scope = match (school, district) {
        (Some(s), _) => Scope::School(s),
        (None, Some(d)) => Scope::District(d),
        (None, None) => Scope::Bureau,
    };
    let needs = match role {
        Role::SchoolClerk => " (give --school CODE)",
        Role::DistrictOfficer => " (give --district NAME)",
        _ => " (the bureau's roles take neither --school nor --district)",
    };
    Principal::new(role, scope).map_err(|e| anyhow::anyhow!("{e}{needs}"))
}

fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run(env: &Env, action: UsersAction) -> anyhow::Result<ExitCode> {
    let accounts = Accounts::open(env.state.root())?;
    let audit = |action: &str, target: &str| {
        accounts.audit(&crate::accounts::AuditEntry {
            login: "(command line)".into(),
            action: action.into(),
            target: target.into(),
            address: "local".into(),
            outcome: "ok".into(),
            ..Default::default()
        })
    };
    match action {
        UsersAction::Add {
            login,
            role,
            school,
            district,
            password_stdin,
            grant_rows,
        } => {
            let who = principal_of(&role, school, district)?.with_rows(grant_rows)?;
            let given = password_stdin.then(password_from_stdin).transpose()?;
            let shown = given.is_none();
            let password = accounts.add(&login, &who, given)?;
            audit(
                "account_add",
                &format!(
                    "{login} {} {}{}",
                    who.role.name(),
                    scope_text(&who.scope),
                    if who.rows { " rows" } else { "" }
                ),
            )?;
            if shown {
                println!(
                    "Created {login} ({}). Password (shown once): {password}",
                    who.role.name()
                );
            } else {
                println!("Created {login} ({}).", who.role.name());
            }
        }
        UsersAction::List => {
            println!("login\trole\tscope\tdisabled\tcreated\trows");
            for a in accounts.list()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    a.login,
                    a.role.name(),
                    scope_text(&a.scope),
                    a.disabled,
                    a.created,
                    a.rows
                );
            }
        }
        UsersAction::Disable { login } => {
            accounts.disable(&login)?;
            audit("account_disable", &login)?;
            println!("Disabled {login}; its sessions have ended.");
        }
        UsersAction::ResetPassword {
            login,
            password_stdin,
        } => {
            let given = password_stdin.then(password_from_stdin).transpose()?;
            let shown = given.is_none();
            let password = accounts.reset_password(&login, given)?;
            audit("account_reset_password", &login)?;
            if shown {
                println!("New password of {login} (shown once): {password}");
            } else {
                println!("The password of {login} is changed.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
