// The migrations are embedded by `sqlx::migrate!` at compile time; without this, cargo does
// not know to rebuild the library when a migration file is added or changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
