//! Channel syntax: what a connect accepts as an egress or ingress channel,
//! checked before anything is created.
//!
//! Aeron channels are URIs: `aeron:udp?endpoint=host:port|key=value…`,
//! `aeron:ipc` (optionally with `?key=value…`), or either behind
//! `aeron-spy:`. The built-in simulation's channels are `sim:NAME`. The
//! check is syntactic: whether the media driver accepts the parameters is
//! still its call.

/// Why a channel string is not a channel.
pub(crate) fn check(channel: &str) -> Result<(), String> {
    if channel.trim() != channel {
        return Err(String::from("it has leading or trailing whitespace"));
    }
    if let Some(name) = channel.strip_prefix("sim:") {
        return check_sim_name(name);
    }
    let uri = channel.strip_prefix("aeron-spy:").unwrap_or(channel);
    let Some(rest) = uri.strip_prefix("aeron:") else {
        return Err(String::from(
            "it is not an Aeron URI: it must start with aeron:udp, aeron:ipc or aeron-spy:",
        ));
    };
    let (media, params) = match rest.split_once('?') {
        Some((media, params)) => (media, Some(params)),
        None => (rest, None),
    };
    let params = match params {
        Some(params) => parse_params(params)?,
        None => Vec::new(),
    };
    match media {
        "ipc" => Ok(()),
        "udp" => {
            let endpoint = params.iter().find(|(k, _)| *k == "endpoint");
            let control = params.iter().find(|(k, _)| *k == "control");
            if endpoint.is_none() && control.is_none() {
                return Err(String::from(
                    "a udp channel needs endpoint=host:port (or control=host:port)",
                ));
            }
            for (key, value) in endpoint.into_iter().chain(control) {
                check_host_port(value).map_err(|why| format!("{key}={value}: {why}"))?;
            }
            Ok(())
        }
        "" => Err(String::from("the media is missing: aeron:udp or aeron:ipc")),
        other => Err(format!("unknown media {other:?}: aeron:udp or aeron:ipc")),
    }
}

fn check_sim_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(String::from(
            "a sim: channel needs a name, as in sim:member-0",
        ));
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(c) => Err(format!("{c:?} in a sim: channel name")),
        None => Ok(()),
    }
}

/// `key=value|key=value`; keys are letters, digits, `-`, `_`, `.`.
fn parse_params(params: &str) -> Result<Vec<(&str, &str)>, String> {
    params
        .split('|')
        .map(|param| {
            let (key, value) = param
                .split_once('=')
                .ok_or_else(|| format!("parameter {param:?} is not key=value"))?;
            let key_ok = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !key_ok {
                return Err(format!("parameter {param:?} has no valid key"));
            }
            if value.is_empty() {
                return Err(format!("parameter {key} has no value"));
            }
            Ok((key, value))
        })
        .collect()
}

/// `host:port`, `[v6]:port`, with a port from 0 to 65535 (0: ephemeral).
fn check_host_port(value: &str) -> Result<(), String> {
    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| String::from("no :port"))?;
    if host.is_empty() || host == "[]" {
        return Err(String::from("no host"));
    }
    // A name or IPv4 address; or an IPv6 address in brackets (where `:` and
    // a `%scope` may appear).
    let good_host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '%')),
        None => host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
    };
    if !good_host {
        return Err(format!("host {host:?} is not a host name or address"));
    }
    port.parse::<u16>()
        .map(|_| ())
        .map_err(|_| format!("port {port:?} is not a number from 0 to 65535"))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn aeron_and_sim_channels_pass() {
        for ok in [
            "aeron:ipc",
            "aeron:ipc?term-length=64k",
            "aeron:udp?endpoint=localhost:20110",
            "aeron:udp?endpoint=localhost:0",
            "aeron:udp?endpoint=[::1]:40123|mtu=1408",
            "aeron:udp?control=10.0.0.1:40456|control-mode=dynamic",
            "aeron-spy:aeron:udp?endpoint=localhost:20110",
            "sim:member-0",
            "sim:egress-17",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in [
            "%%%",
            "",
            " aeron:ipc",
            "aeron:",
            "aeron:tcp?endpoint=h:1",
            "aeron:udp",
            "aeron:udp?endpoint=localhost",
            "aeron:udp?endpoint=localhost:99999",
            "aeron:udp?endpoint=:40",
            "aeron:udp?endpoint=h:1|mtu",
            "aeron:udp?endpoint=h:1|=3",
            "aeron:udp?endpoint=%%%:1",
            "sim:",
            "sim:a b",
        ] {
            assert!(check(bad).is_err(), "{bad:?} passed");
        }
    }
}
