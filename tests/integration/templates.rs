//! The upload page's templates: each, as CSV and as Excel, uploads as it is (its example row
//! stored, nothing rejected), with the header words edulake reads.

use edulake_ingest::{IngestOptions, Outcome};
use edulake_serve::web::templates::TEMPLATES;

use crate::common::*;

#[tokio::test]
async fn every_template_uploads_as_it_is() {
    let f = Fixture::new();
    for tpl in TEMPLATES {
        let (head, _) = tpl.rows(None);
        assert!(head.iter().all(|h| !h.is_ascii()), "{}: {head:?}", tpl.name);
        let csv = f.write(&format!("{}.csv", tpl.name), tpl.csv(Some("S001")));
        let xlsx = f.write(
            &format!("{}.xlsx", tpl.name),
            tpl.xlsx("模板", Some("S002")).unwrap(),
        );
        let mut opts = IngestOptions::new(tpl.stored_as(), "Asia/Shanghai".parse().unwrap());
        opts.today = today();
        for (file, school) in [(&csv, "S001"), (&xlsx, "S002")] {
            opts.upload.school = Some(school.to_string());
            let out = f
                .ingest_with(&opts, std::slice::from_ref(file))
                .await
                .unwrap();
            match &out[0].outcome {
                Outcome::Stored { record, .. } => assert_eq!(
                    (record.rows_stored, record.rows_rejected),
                    (1, 0),
                    "{} ({})",
                    tpl.name,
                    file.display()
                ),
                other => panic!("{} ({}): {other:?}", tpl.name, file.display()),
            }
        }
    }
}
