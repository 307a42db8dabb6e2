//! Manual smoke run against a real broker: simulate a small fleet, produce it,
//! read it back and check count, keys and per-key order.
//!
//! ```text
//! cargo run -p sxfleet-simulator --example smoke_produce -- [BOOTSTRAP] [NODES] [ROUNDS] [RATE]
//! ```
//! Defaults: 127.0.0.1:9092, 200 nodes, 20 rounds, unpaced. Uses a fresh topic
//! `sxfleet-smoke-<pid>-<millis>` with 3 partitions, created here.

use std::collections::HashMap;
use std::error::Error;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::stream;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message};
use sxfleet_simulator::{messages_for_rounds, produce, ProduceOptions, SimConfig};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let bootstrap = arg(0).unwrap_or("127.0.0.1:9092").to_owned();
    let nodes: u32 = arg(1).unwrap_or("200").parse()?;
    let rounds: u64 = arg(2).unwrap_or("20").parse()?;
    let rate: Option<f64> = arg(3).map(str::parse).transpose()?;

    let millis = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let topic = format!("sxfleet-smoke-{}-{millis}", std::process::id());
    let config = SimConfig {
        nodes,
        ..SimConfig::default()
    };
    let msgs = messages_for_rounds(&config, rounds)?;
    let total = msgs.len() as u64;

    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &bootstrap);
    let admin: AdminClient<DefaultClientContext> = client.create()?;
    let new_topic = NewTopic::new(&topic, 3, TopicReplication::Fixed(1));
    for result in admin
        .create_topics([&new_topic], &AdminOptions::new())
        .await?
    {
        result.map_err(|(name, code)| format!("cannot create topic {name}: {code}"))?;
    }
    let options = ProduceOptions {
        rate,
        expected_total: Some(total),
        ..ProduceOptions::new(&topic)
    };
    let (_stop, shutdown) = watch::channel(false);
    let summary = produce(&client, &options, stream::iter(msgs), shutdown).await?;
    println!("topic {topic}: {summary:?}");
    summary.ensure_delivered()?;

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", format!("{topic}-check"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[&topic])?;
    let mut last_seq: HashMap<Vec<u8>, u64> = HashMap::new();
    let (mut read, mut out_of_order) = (0u64, 0u64);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while read < total && std::time::Instant::now() < deadline {
        let Some(msg) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        let msg = msg?;
        let value: serde_json::Value = serde_json::from_slice(msg.payload().unwrap_or_default())?;
        let seq = value
            .get("seq")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let prev = last_seq
            .insert(msg.key().unwrap_or_default().to_vec(), seq)
            .unwrap_or(0);
        out_of_order += u64::from(seq != prev + 1);
        read += 1;
    }
    println!(
        "read back {read}/{total} messages, {} keys, {out_of_order} out of order",
        last_seq.len()
    );
    if read != total || out_of_order != 0 {
        return Err("read-back check failed".into());
    }
    Ok(())
}
