//! `erpsync users hash-password`: the Argon2 PHC string for a review-desk user's
//! `password_hash`, from a password read on stdin (never an argument, which other users of
//! the machine could see in the process list, and shells keep in their history).

use super::CliError;
use crate::service::desk::auth;
use clap::Subcommand;
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Print the Argon2 hash of a password read from stdin, for `[[server.users]] password_hash`.
    HashPassword,
}

pub fn run(command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::HashPassword => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            println!("{}", hash_line(&input)?);
            Ok(())
        }
    }
}

/// The hash of the first line of `input` (what `echo` or a terminal sends ends in a newline
/// that is not part of the password).
fn hash_line(input: &str) -> Result<String, CliError> {
    let password = input.lines().next().unwrap_or("");
    if password.is_empty() {
        return Err(CliError::Usage(
            "no password on stdin (e.g. `erpsync users hash-password < file`)".into(),
        ));
    }
    auth::hash_password(password).map_err(|e| CliError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trailing_newline_is_not_part_of_the_password() {
        let hash = hash_line("s3cret pass\n").unwrap();
        assert!(auth::verify_password(&hash, "s3cret pass"));
        assert!(!auth::verify_password(&hash, "s3cret pass\n"));
        assert!(matches!(hash_line("\n"), Err(CliError::Usage(_))));
        assert!(matches!(hash_line(""), Err(CliError::Usage(_))));
    }
}
