//! The log named by a URL: `file:PATH` for the embedded log in `PATH`, `kafka://HOST:PORT,...`
//! for a Kafka cluster (in builds with the `kafka` feature). Every process opens its log here.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use crate::{EmbeddedLog, EventLog, LogError, TopicConfig};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogUrl {
    /// The embedded log's directory; `file:` alone leaves it to the caller's default.
    File(Option<PathBuf>),
    /// `host:port,host:port`.
    Kafka(String),
}

impl FromStr for LogUrl {
    type Err = LogError;

    fn from_str(url: &str) -> Result<LogUrl, LogError> {
        let invalid = |reason: &str| LogError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        if let Some(path) = url.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            return Ok(LogUrl::File((!path.is_empty()).then(|| PathBuf::from(path))));
        }
        if let Some(brokers) = url.strip_prefix("kafka://") {
            let listed: Vec<&str> = brokers.split(',').map(str::trim).collect();
            if listed
                .iter()
                .any(|b| b.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err()))
            {
                return Err(invalid("each broker is HOST:PORT, separated by commas"));
            }
            return Ok(LogUrl::Kafka(listed.join(",")));
        }
        Err(invalid("a log URL is file:PATH or kafka://HOST:PORT[,HOST:PORT...]"))
    }
}

impl fmt::Display for LogUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogUrl::File(Some(path)) => write!(f, "file:{}", path.display()),
            LogUrl::File(None) => write!(f, "file:"),
            LogUrl::Kafka(brokers) => write!(f, "kafka://{brokers}"),
        }
    }
}

impl serde::Serialize for LogUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LogUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<LogUrl, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What opening needs beside the URL.
pub struct OpenOptions {
    /// The embedded log's directory when the URL is `file:` alone.
    pub default_dir: PathBuf,
    /// Size at which the embedded log starts a new segment.
    pub segment_bytes: u64,
    #[cfg(feature = "kafka")]
    pub kafka: crate::kafka::KafkaConfig,
}

/// Opens the log `url` names with `topics`, creating them where they are missing.
pub fn open(url: &LogUrl, topics: &[TopicConfig], options: &OpenOptions) -> Result<Arc<dyn EventLog>, LogError> {
    match url {
        LogUrl::File(dir) => {
            let dir = dir.as_ref().unwrap_or(&options.default_dir);
            Ok(Arc::new(EmbeddedLog::open(dir, topics, options.segment_bytes)?))
        }
        #[cfg(feature = "kafka")]
        LogUrl::Kafka(brokers) => {
            let log = crate::kafka::KafkaLog::connect(brokers, options.kafka.clone())?;
            log.ensure_topics(topics)?;
            Ok(Arc::new(log))
        }
        #[cfg(not(feature = "kafka"))]
        LogUrl::Kafka(_) => Err(LogError::InvalidUrl {
            url: url.to_string(),
            reason: "this build has no Kafka support (the `kafka` feature of tailor-log)".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_directory_or_brokers_and_anything_else_is_refused() {
        assert_eq!("file:".parse::<LogUrl>().unwrap(), LogUrl::File(None));
        assert_eq!("file:var/log".parse::<LogUrl>().unwrap(), LogUrl::File(Some("var/log".into())));
        assert_eq!("file:///srv/log".parse::<LogUrl>().unwrap(), LogUrl::File(Some("/srv/log".into())));
        let kafka = "kafka://k1:9092, k2:9092".parse::<LogUrl>().unwrap();
        assert_eq!(
            (kafka.clone(), kafka.to_string()),
            (LogUrl::Kafka("k1:9092,k2:9092".into()), "kafka://k1:9092,k2:9092".into())
        );
        for bad in ["kafka://", "kafka://k1", "kafka://k1:port", "embedded", "/var/log", "http://k1:9092"] {
            let error = bad.parse::<LogUrl>().unwrap_err();
            assert!(matches!(error, LogError::InvalidUrl { .. }), "{bad}: {error}");
        }
    }
}
