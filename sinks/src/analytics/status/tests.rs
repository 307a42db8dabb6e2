use datafusion::arrow::array::AsArray;
use datafusion::prelude::SessionContext;

use super::check::{nodes, rule_check_sql, rule_in_rust, SAMPLES};
use super::*;

#[test]
fn the_rule_gives_the_seeds_words() {
    for (name, authority, counts, impaired, want, summary) in SAMPLES {
        let total = nodes(counts);
        assert_eq!(status(authority, total, *impaired), *want, "{name}");
        assert_eq!(connectivity_summary(counts, total), *summary, "{name}");
    }
    assert_eq!(connectivity_summary(&[0; 8], 0), "");
}

#[test]
fn impaired_nodes() {
    let cases = [
        ("LIVE", "OK", "ACTIVE", false),
        ("DELAYED", "OK", "ACTIVE", true),
        ("DISCONNECTED", "OK", "ACTIVE", true),
        ("AUTONOMOUS", "OK", "ACTIVE", false),
        ("EDGE_CACHED", "DEGRADED", "DEGRADED", false),
        ("REPLAYING", "OK", "ACTIVE", false),
        ("LIVE", "FAILED", "ACTIVE", true),
        ("LIVE", "OK", "QUARANTINED", true),
    ];
    for (mode, health, phase, want) in cases {
        assert_eq!(
            is_impaired(mode, health, phase),
            want,
            "{mode} {health} {phase}"
        );
    }
    assert_eq!(
        impaired_sql(),
        "(connectivity IN ('DELAYED', 'DISCONNECTED') OR health = 'FAILED' OR \
         lifecycle_phase = 'QUARANTINED')"
    );
}

#[tokio::test]
async fn the_sql_says_what_the_rust_rule_says_on_datafusion() {
    let ctx = SessionContext::new();
    let sql = rule_check_sql(Dialect::DataFusion);
    let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
    let mut got = String::new();
    for batch in &batches {
        let cast = |i: usize| {
            datafusion::arrow::compute::cast(
                batch.column(i),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap()
        };
        let (name, status, summary) = (cast(0), cast(1), cast(2));
        for row in 0..batch.num_rows() {
            got.push_str(&format!(
                "{}\t{}\t{}\n",
                name.as_string::<i32>().value(row),
                status.as_string::<i32>().value(row),
                summary.as_string::<i32>().value(row)
            ));
        }
    }
    assert_eq!(got, rule_in_rust());
}
