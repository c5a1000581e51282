//! The cockpit's downloads as Excel users expect them (run by the cockpit's test of every
//! page, link and download, on its lake).

use std::sync::Arc;

use axum::http::StatusCode;
use edulake_serve::web::AppState;

use crate::cockpit::links;
use crate::common::cockpit_get as get;

/// Downloads as Excel users expect them: headers in the page's language, and in a workbook a
/// named sheet, a title row saying what the numbers are, real dates and percentages; "the 10
/// lowest" is exactly the page's ten.
pub(crate) async fn downloads_read_as_people_expect(state: &Arc<AppState>, from: &str, to: &str) {
    let range = format!("from={from}&to={to}");
    let mut asked: Vec<String> = edulake_transform::indicators::all()
        .iter()
        .filter(|i| {
            i.levels
                .contains(&edulake_transform::indicators::Level::School)
        })
        .map(|i| {
            format!(
                "/download?indicator={}&level=school&{range}&format=csv",
                i.name
            )
        })
        .collect();
    asked.extend([
        format!("/download?table=alerts&{range}&format=csv"),
        format!("/download?table=batches&{range}&format=csv"),
        format!("/download?table=missing&day={to}&format=csv"),
    ]);
    for uri in &asked {
        let (status, body) = get(state, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let text = String::from_utf8(body).unwrap();
        let header = text
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        for word in header.split(',') {
            assert!(
                !word.is_ascii(),
                "{uri}: the header '{word}' is not in Chinese ({header})"
            );
        }
        let (_, english) = get(state, &uri.replace("format=csv", "format=csv&lang=en")).await;
        let english = String::from_utf8(english).unwrap();
        assert!(
            english.trim_start_matches('\u{feff}').is_ascii() || english.contains(','),
            "{uri}"
        );
    }

    let (status, xlsx) = get(
        state,
        &format!("/download?indicator=attendance_rate&level=school&grain=day&{range}&format=xlsx"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
    assert_eq!(wb.sheet_names(), vec!["出勤率".to_string()]);
    let sheet = wb.worksheet_range("出勤率").unwrap();
    let title = sheet.get((0, 0)).unwrap().to_string();
    for part in ["出勤率", "按学校", "逐日", from, to] {
        assert!(
            title.contains(part),
            "{part} missing from the title '{title}'"
        );
    }
    let header: Vec<String> = (0..9)
        .map(|c| sheet.get((1, c)).map(|v| v.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(
        &header[..4],
        ["区县", "学校代码", "学校名称", "起始日期"],
        "{header:?}"
    );
    let start = header.iter().position(|h| h == "起始日期").unwrap();
    let value = header.iter().position(|h| h == "数值").unwrap();
    assert!(
        matches!(sheet.get((2, start)), Some(calamine::Data::DateTime(_))),
        "a date cell: {:?}",
        sheet.get((2, start))
    );
    match sheet.get((2, value)) {
        Some(calamine::Data::Float(v)) => assert!((0.0..=1.0).contains(v), "{v}"),
        other => panic!("a rate is a number: {other:?}"),
    }

    // The overview's ten lowest schools and their download: the same schools, in order.
    let (_, page) = get(state, &format!("/?{range}")).await;
    let page = String::from_utf8(page).unwrap();
    let href = links(&page)
        .into_iter()
        .find(|h| h.contains("lowest=10") && h.contains("format=csv"))
        .expect("the ten lowest have their download");
    let (_, csv) = get(state, &href).await;
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty() && rows.len() <= 10, "{csv}");
    let values: Vec<f64> = rows
        .iter()
        .map(|r| r.split(',').nth(7).unwrap().parse().unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "lowest first: {values:?}"
    );
    let section = page.split("lowest=10").next().unwrap();
    for r in &rows {
        let school = r.split(',').nth(2).unwrap();
        assert!(
            section.contains(school),
            "{school} is not in the page's list"
        );
    }
}
