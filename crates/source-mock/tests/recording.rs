//! The recording format: round trips, corrupt and truncated files.

use ttlive_source_mock::recording::{Header, RecordingReader, Unit, UnitKind};
use ttlive_source_mock::{Recording, RecordingError, RecordingWriter};

fn sample() -> Recording {
    let mut r = Recording::new(Header::new(42).with_unique_id("someone"));
    r.units
        .push(Unit::new(0, UnitKind::SignFetch, vec![1u8, 2, 3]));
    r.units
        .push(Unit::new(10, UnitKind::PushFrame, vec![0x1f, 0x8b, 8, 0]));
    r.units.push(Unit::new(20, UnitKind::ClientFrame, vec![]));
    r.units.push(Unit::note(30, "hello \"note\""));
    r.units
        .push(Unit::new(40, UnitKind::PushFrame, vec![9u8; 100]));
    r
}

#[test]
fn round_trip_in_memory_and_gzip() {
    let r = sample();
    let bytes = r.to_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(r#"{"format":"ttlive-recording","version":1,"#),
        "{first}"
    );
    assert!(first.contains(r#""room_id":"42""#));
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .contains(r#""kind":"push_frame","data_b64":"#)
    );
    assert_eq!(Recording::from_bytes(bytes.clone()).unwrap(), r);
    let gz = ttlive_proto::gzip(&bytes);
    assert_eq!(Recording::from_bytes(gz).unwrap(), r);
    // Unique ids.
    assert_ne!(Header::new(1).id, Header::new(1).id);
}

#[test]
fn writer_tap_stamps_offsets() {
    let mut w = RecordingWriter::new(Vec::new(), &Header::new(7)).unwrap();
    w.record(UnitKind::PushFrame, b"abc").unwrap();
    w.record(UnitKind::ClientFrame, b"d").unwrap();
    assert_eq!(w.lines(), 3);
    let r = Recording::from_bytes(w.into_inner()).unwrap();
    assert_eq!(r.units.len(), 2);
    assert_eq!(&r.units[0].data[..], b"abc");
}

#[test]
fn truncated_file_names_the_line_and_keeps_what_came_before() {
    let bytes = sample().to_bytes();
    // Cut in the middle of line 5 (the note).
    let text = String::from_utf8(bytes).unwrap();
    let cut = text.match_indices('\n').nth(3).unwrap().0 + 10;
    let truncated = text[..cut].to_owned();
    let reader = RecordingReader::from_bytes(truncated.clone().into_bytes()).unwrap();
    let items: Vec<_> = reader.collect();
    assert_eq!(items.len(), 4);
    assert!(items[..3].iter().all(Result::is_ok));
    let err = items[3].as_ref().unwrap_err();
    assert!(
        matches!(err, RecordingError::Truncated { line: 5, .. }),
        "{err}"
    );
    assert_eq!(err.line(), 5);
    assert!(err.to_string().contains("line 5"), "{err}");
    // The strict reader refuses the file, naming the line.
    let e = Recording::from_bytes(truncated.into_bytes()).unwrap_err();
    assert_eq!(e.line(), 5);
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let gz = ttlive_proto::gzip(&sample().to_bytes());
    let cut = &gz[..gz.len() - 12];
    let reader = RecordingReader::from_bytes(cut.to_vec()).unwrap();
    let items: Vec<_> = reader.collect();
    assert!(items.iter().filter(|i| i.is_ok()).count() >= 4, "{items:?}");
    assert!(items.last().unwrap().is_err());
}

#[test]
fn corrupt_line_is_reported_and_reading_goes_on() {
    let text = String::from_utf8(sample().to_bytes()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2] = r#"{"t_ms":10,"kind":"push_frame","data_b64":"!!!not base64"}"#.to_owned();
    lines[3] = "{garbage".to_owned();
    lines[4] = r#"{"t_ms":30,"kind":"telepathy","data_b64":""}"#.to_owned();
    let broken = lines.join("\n") + "\n";
    let items: Vec<_> = RecordingReader::from_bytes(broken.into_bytes())
        .unwrap()
        .collect();
    assert_eq!(items.len(), 5);
    assert!(items[0].is_ok());
    for (i, line) in [(1, 3), (2, 4), (3, 5)] {
        let e = items[i].as_ref().unwrap_err();
        assert!(matches!(e, RecordingError::Corrupt { .. }), "{e}");
        assert_eq!(e.line(), line);
        assert!(e.to_string().contains(&format!("line {line}")));
    }
    assert_eq!(items[4].as_ref().unwrap().t_ms, 40);
}

#[test]
fn bad_headers() {
    assert!(matches!(
        RecordingReader::from_bytes(Vec::new()).unwrap_err(),
        RecordingError::BadHeader { .. }
    ));
    assert!(matches!(
        RecordingReader::from_bytes(b"{\"format\":\"other\",\"version\":1}\n".to_vec())
            .unwrap_err(),
        RecordingError::BadHeader { .. }
    ));
    let v2 =
        br#"{"format":"ttlive-recording","version":2,"id":"x","room_id":"1","started_at_ms":0}"#;
    assert!(matches!(
        RecordingReader::from_bytes(v2.to_vec()).unwrap_err(),
        RecordingError::UnsupportedVersion { version: 2 }
    ));
    assert!(RecordingReader::from_bytes(b"\xff\xfe\x00garbage".to_vec()).is_err());
}
