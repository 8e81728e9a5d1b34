//! `tailor log check|repair`: see and mend damage in the embedded event log.

use anyhow::{Context, bail};
use clap::Subcommand;

use tailor_config::Config;
use tailor_log::LogUrl;

#[derive(Subcommand)]
pub enum LogCommand {
    /// Read every record of the embedded log and report each partition and any damage; changes
    /// nothing, and exits non-zero when something is damaged.
    Check,
    /// Rewrite each damaged segment with every record that still reads, naming the offsets lost;
    /// the original is kept beside it as NAME.damaged. Stop the processes using the log first.
    Repair,
}

pub fn run(config: &Config, command: LogCommand) -> anyhow::Result<()> {
    let dir = match &config.events.log {
        LogUrl::File(dir) => dir.clone().unwrap_or_else(|| config.paths().log()),
        LogUrl::Kafka(_) => {
            bail!(
                "`tailor log` works on the embedded log; this configuration uses Kafka, whose brokers check their own"
            )
        }
    };
    match command {
        LogCommand::Check => {
            let reports = tailor_log::check(&dir).with_context(|| format!("checking {}", dir.display()))?;
            let mut damaged = 0;
            for report in &reports {
                println!(
                    "{}/partition-{}: {} segments, {} records, {} bytes, next offset {}",
                    report.topic, report.partition, report.segments, report.records, report.bytes, report.end_offset
                );
                for damage in &report.damage {
                    let kind = match damage.is_torn_tail() {
                        true => "torn tail of an unacknowledged write, cut off when the log next opens",
                        false => "damage the log will not open past; `tailor log repair` keeps what still reads",
                    };
                    println!("  {damage}\n    {kind}");
                    damaged += usize::from(!damage.is_torn_tail());
                }
            }
            if damaged > 0 {
                bail!("{damaged} damaged segments in {}", dir.display());
            }
            println!("{} partitions in {}: no damage", reports.len(), dir.display());
        }
        LogCommand::Repair => {
            let repaired = tailor_log::repair(&dir).with_context(|| format!("repairing {}", dir.display()))?;
            for segment in &repaired {
                println!("{}: kept {} records", segment.path.display(), segment.kept_records);
                for cut in &segment.cuts {
                    let offsets = match &cut.lost_offsets {
                        Some(lost) if lost.is_empty() => "no records".to_owned(),
                        Some(lost) => {
                            format!("offsets {}..={} ({} records)", lost.start, lost.end - 1, lost.end - lost.start)
                        }
                        None => "an unknown number of records at the end".to_owned(),
                    };
                    println!("  removed {} bytes at byte {}: {offsets}", cut.bytes, cut.position);
                }
                if let Some(backup) = &segment.backup {
                    println!("  the original is kept as {}", backup.display());
                }
            }
            println!("{} segments repaired in {}", repaired.len(), dir.display());
        }
    }
    Ok(())
}
