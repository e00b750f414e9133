//! The `--NAME ADDR` option of every built-in service, made from the list
//! of built-in services ([`percore_protocols::BUILT_IN`]): a new service gets
//! its option without an edit here.

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use percore::config::Endpoint;
use percore_protocols::BUILT_IN;

use super::parse_endpoint;

/// Every built-in service's addresses, as given or by default.
#[derive(Clone, Debug, Default)]
pub struct ServiceAddrs(pub Vec<(&'static str, Vec<Endpoint>)>);

impl ServiceAddrs {
    pub fn of(&self, name: &str) -> &[Endpoint] {
        self.0
            .iter()
            .find(|(service, _)| *service == name)
            .map_or(&[], |(_, addrs)| addrs.as_slice())
    }
}

impl FromArgMatches for ServiceAddrs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let addrs = BUILT_IN
            .iter()
            .map(|service| {
                let given = matches
                    .get_many::<Endpoint>(service.name)
                    .map(|addrs| addrs.copied().collect())
                    .unwrap_or_default();
                (service.name, given)
            })
            .collect();
        Ok(ServiceAddrs(addrs))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = ServiceAddrs::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for ServiceAddrs {
    fn augment_args(command: clap::Command) -> clap::Command {
        BUILT_IN.iter().fold(command, |command, service| {
            command.arg(
                Arg::new(service.name)
                    .long(service.name)
                    .value_name("ADDR")
                    .help(service.about)
                    .action(ArgAction::Append)
                    .default_value(service.default_addr)
                    .value_parser(parse_endpoint),
            )
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        ServiceAddrs::augment_args(command)
    }
}
