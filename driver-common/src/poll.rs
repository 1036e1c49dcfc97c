//! The poll string of one VM (contract §5): one line of `KEY=VALUE` tokens.

use std::fmt;

/// A VM's state as OpenNebula's poll letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// `a`: powered on.
    Active,
    /// `p`: suspended.
    Paused,
    /// `d`: powered off, or not found.
    Deleted,
    /// `-`: unknown.
    Unknown,
}

impl State {
    /// The state for a `runtime.powerState` wire value.
    pub fn from_power_state(s: &str) -> State {
        match s {
            "poweredOn" => State::Active,
            "suspended" => State::Paused,
            "poweredOff" => State::Deleted,
            _ => State::Unknown,
        }
    }

    /// The letter.
    pub fn letter(self) -> char {
        match self {
            State::Active => 'a',
            State::Paused => 'p',
            State::Deleted => 'd',
            State::Unknown => '-',
        }
    }
}

/// What a poll reports for one VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollInfo {
    /// The state.
    pub state: State,
    /// Percent of one physical core (100 = one core busy).
    pub used_cpu: u64,
    /// Memory used, KB.
    pub used_memory_kb: u64,
    /// Bytes received, cumulative.
    pub net_rx: u64,
    /// Bytes sent, cumulative.
    pub net_tx: u64,
}

impl PollInfo {
    /// A VM that is not there (or powered off): `STATE=d`.
    pub fn deleted() -> Self {
        PollInfo {
            state: State::Deleted,
            used_cpu: 0,
            used_memory_kb: 0,
            net_rx: 0,
            net_tx: 0,
        }
    }
}

/// `STATE=d` alone for a deleted VM, else all five keys.
impl fmt::Display for PollInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "STATE={}", self.state.letter())?;
        if self.state == State::Deleted {
            return Ok(());
        }
        write!(
            f,
            " USEDCPU={} USEDMEMORY={} NETRX={} NETTX={}",
            self.used_cpu, self.used_memory_kb, self.net_rx, self.net_tx
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(PollInfo::deleted().to_string(), "STATE=d");
        let p = PollInfo {
            state: State::Active,
            used_cpu: 12,
            used_memory_kb: 2048,
            net_rx: 5,
            net_tx: 6,
        };
        assert_eq!(
            p.to_string(),
            "STATE=a USEDCPU=12 USEDMEMORY=2048 NETRX=5 NETTX=6"
        );
        assert_eq!(State::from_power_state("suspended"), State::Paused);
        assert_eq!(State::from_power_state("weird"), State::Unknown);
    }
}
