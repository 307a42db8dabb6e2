//! An internal error (a broken invariant) stops only the partition it happened in: that
//! partition stays at its last committed offset (the batch holding the bad record is aborted
//! whole), the other partitions go on.

mod common;

use std::time::Duration;

use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::topics::{ensure_topics, TopicSpec};
use sxfleet_runtime::{run_stage, Input, KafkaConfig, Output, Shutdown, Stage, StageRunConfig};

/// Echoes every record to `out_topic`; a record with the value `boom` is a broken invariant.
struct Echo {
    out_topic: String,
}

impl Stage for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }
    fn changelog(&self) -> Option<&str> {
        None
    }
    fn restore(&mut self, _: i32, _: &[u8], _: Option<&[u8]>) -> Result<(), InternalError> {
        Ok(())
    }
    fn revoke(&mut self, _: i32) {}
    fn reset(&mut self) {}
    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        if input.payload == Some(b"boom".as_slice()) {
            return Err(InternalError("the record says boom".to_owned()));
        }
        out.push(Output {
            topic: self.out_topic.clone(),
            partition: Some(input.partition),
            key: input.key.map(<[u8]>::to_vec),
            payload: input.payload.map(<[u8]>::to_vec),
        });
        Ok(())
    }
    fn flush(&mut self, _: &mut Vec<Output>) -> Result<(), InternalError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_error_stops_only_its_partition() {
    let services = common::services();
    let name = common::unique("internal");
    let _cleanup = common::Cleanup::new(&services.kafka, &name);
    let (input, output) = (format!("{name}.in"), format!("{name}.out"));
    let kafka = KafkaConfig::new(&services.kafka);
    ensure_topics(
        &kafka,
        &[TopicSpec::new(&input, 2), TopicSpec::new(&output, 2)],
    )
    .await
    .unwrap();
    // Keys chosen by partition: the test produces with explicit partitions below.
    let producer: rdkafka::producer::FutureProducer = kafka
        .producer(None, Duration::from_secs(10))
        .create()
        .unwrap();
    for (partition, value) in [
        (0, "a"),
        (0, "boom"),
        (0, "c"),
        (1, "x"),
        (1, "y"),
        (1, "z"),
    ] {
        let record = rdkafka::producer::FutureRecord::<[u8], [u8]>::to(&input)
            .partition(partition)
            .key(b"k".as_slice())
            .payload(value.as_bytes());
        producer
            .send(record, Duration::from_secs(30))
            .await
            .unwrap();
    }

    let config = StageRunConfig::new(kafka.clone(), &name, vec![input.clone()]);
    let mut stage = Echo {
        out_topic: output.clone(),
    };
    let stop = Shutdown::new();
    let watcher = {
        let (stop, bootstrap, group, input) = (
            stop.clone(),
            services.kafka.clone(),
            name.clone(),
            input.clone(),
        );
        tokio::spawn(async move {
            // Partition 1 fully committed (3), partition 0 not at all.
            let limit = Duration::from_secs(60);
            common::wait_committed(&bootstrap, &group, &input, 2, Some(3), limit).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let done = common::kafka::GroupProgress::new(&bootstrap, &group, &input, 2)
                .get()
                .0;
            stop.trigger();
            done
        })
    };
    let stats = run_stage(&config, &mut stage, &stop).await.unwrap();
    let committed = watcher.await.unwrap();
    assert_eq!(stats.stopped_partitions, vec![0]);
    assert_eq!(
        committed, 3,
        "partition 1 only; partition 0 stays before its aborted batch"
    );
    let out: Vec<(i32, Vec<u8>)> = common::kafka::read_committed(&services.kafka, &output, 2)
        .into_iter()
        .map(|(partition, _, _, value)| (partition, value.unwrap()))
        .collect();
    let mut values: Vec<(i32, &str)> = out
        .iter()
        .map(|(p, v)| (*p, std::str::from_utf8(v).unwrap()))
        .collect();
    values.sort_unstable();
    assert_eq!(values, vec![(1, "x"), (1, "y"), (1, "z")]);
}
