//! The key that signs session tokens: `serve.session_secret`, or one generated on first start and
//! kept in `DATA_DIR/session.key` (readable by its owner only), so tokens survive restarts.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use tailor_config::Config;

use crate::ServeError;

pub fn session_secret(config: &Config) -> Result<Vec<u8>, ServeError> {
    if let Some(secret) = &config.serve.session_secret {
        if secret.len() < 16 {
            return Err(ServeError::Setting("serve.session_secret must be at least 16 characters".to_owned()));
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.paths().session_key();
    let failed = |doing: &str| ServeError::io(format!("{doing} {}", path.display()));
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => Ok(secret),
        Ok(_) => Err(ServeError::Setting(format!(
            "{} is shorter than 32 bytes; delete it to have a new one made",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret: [u8; 32] = rand::random();
            std::fs::create_dir_all(&config.data_dir).map_err(failed("creating the directory of"))?;
            let mut file = std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(&path)
                .map_err(failed("creating"))?;
            file.write_all(&secret).map_err(failed("writing"))?;
            Ok(secret.to_vec())
        }
        Err(e) => Err(failed("reading")(e)),
    }
}
