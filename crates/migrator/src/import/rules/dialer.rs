//! `dialer-processor`: importing the Dialer package switches on the
//! target's `Launch Dialer Migration Package Processor` server parameter.

use super::{Effects, KeyEntry, KeyRule, RuleContext};
use transit_registry::{KeyPath, NamedValue, ValueData};

/// See the module documentation.
pub struct ProcessorSwitch;

const ID: &str = "dialer-processor";
/// The server parameter the rule sets.
pub const PARAMETER: &str = "Launch Dialer Migration Package Processor";

impl KeyRule for ProcessorSwitch {
    fn id(&self) -> &'static str {
        ID
    }

    fn applies(&self, ctx: &RuleContext<'_>) -> bool {
        // The processor migrates an older Dialer package; a recovery
        // restores the parameter as it was.
        super::migration_rule(ctx, ID)
    }

    fn apply(&self, _entry: &mut KeyEntry, _ctx: &RuleContext<'_>, _effects: &mut Effects) {}

    fn before_component(&self, ctx: &RuleContext<'_>, effects: &mut Effects) -> Vec<KeyPath> {
        let path = ctx
            .target_container("Server Parameters")
            .join(PARAMETER)
            .expect("constant name");
        effects.note(ID, format!("{PARAMETER} set to 1"));
        effects.extra.push(KeyEntry {
            path,
            values: vec![NamedValue {
                name: "Value".into(),
                data: ValueData::Sz("1".into()),
            }],
        });
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::import::ImportMode;

    #[test]
    fn dialer_processor_switches_the_parameter_on() {
        with_ctx("Dialer Package", ImportMode::Migration, false, |ctx| {
            assert!(ProcessorSwitch.applies(ctx));
            let mut fx = Effects::default();
            ProcessorSwitch.before_component(ctx, &mut fx);
            assert_eq!(
                fx.extra[0].path,
                ctx.target
                    .container("Server Parameters")
                    .join(PARAMETER)
                    .unwrap()
            );
            assert_eq!(fx.extra[0].values[0].data, sz("1"));
        });
    }
}
