mod common;

use std::path::Path;

use common::{PNG_2X3, myntra_dir, write};
use tailor_catalog::{CatalogError, CatalogStore, IngestReport, IssueOutcome, SourceFormat, ingest};
use tailor_core::{Gender, ImageRef, ItemId, Modality};
use tempfile::TempDir;

fn store(dir: &TempDir) -> CatalogStore {
    CatalogStore::open(&dir.path().join("var")).unwrap()
}

fn issues(report: &IngestReport, outcome: IssueOutcome) -> Vec<(u64, String)> {
    report.issues.iter().filter(|i| i.outcome == outcome).map(|i| (i.line, i.reason.clone())).collect()
}

fn id(s: &str) -> ItemId {
    ItemId::new(s).unwrap()
}

#[test]
fn malformed_rows_are_reported_and_good_rows_kept() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "photos/ok.png", PNG_2X3);
    write(dir.path(), "photos/broken.jpg", "not an image");
    let mut csv = b"id,title,description,image,gender,price,colour\n".to_vec();
    csv.extend_from_slice(
        b"a1,Navy Shirt,,photos/ok.png,Men,19.99,Navy\n\
          a2,Blue Jeans,Slim fit,,women,$45,Blue\n\
          a3,Too,Many,Fields,Here,1,2,3\n\
          a4,Cheap Hat,,,men,abc,Red\n\
          ,No Id,,,men,1,Red\n\
          a6,,,,men,1,Red\n\
          a7,Lost Photo,,photos/missing.png,men,1,Red\n\
          a8,Broken Photo,,photos/broken.jpg,men,1,Red\n\
          bad id,Spaces,,,men,1,Red\n\
          a1,Duplicate,,,men,1,Red\n\
          a11,,,photos/ok.png,unisex,5,Black\n\
          a12,Robot Suit,,,robots,5,Silver\n\
          a13,Bad \xff Bytes,,,men,1,Red\n",
    );
    let file = write(dir.path(), "shop.csv", csv);
    let store = store(&dir);
    let report = ingest(&file, SourceFormat::Generic, &store).unwrap();

    assert_eq!(report.read, 13);
    assert_eq!(report.rejected, 7);
    assert_eq!(report.ingested(), 6);
    assert_eq!((report.with_image, report.text_only, report.image_only), (2, 4, 1));
    let rejected = issues(&report, IssueOutcome::Rejected);
    let lines: Vec<u64> = rejected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, vec![4, 5, 6, 7, 10, 11, 14]);
    assert_eq!(rejected[0].1, "row has 8 fields, the header has 7");
    assert_eq!(rejected[1].1, "price \"abc\" is not a number");
    assert_eq!(rejected[2].1, "id is empty");
    assert!(rejected[3].1.contains("neither text (title or description) nor an image"));
    assert!(rejected[4].1.contains("contains ' '"));
    assert_eq!(rejected[5].1, "duplicate id a1: first seen at line 2");
    assert_eq!(rejected[6].1, "column \"title\" is not valid UTF-8");

    let kept = issues(&report, IssueOutcome::Kept);
    assert!(kept[0].1.contains("missing.png not found: item kept without a photo"), "{kept:?}");
    assert_eq!(kept[0].0, 8);
    assert!(kept[1].1.contains("broken.jpg is unreadable"), "{kept:?}");
    assert_eq!(kept[2], (12, "title is empty: kept as an image-only item".to_owned()));
    assert!(kept[3].1.starts_with("gender \"robots\" is not one of"));

    let stored: Vec<String> = store.load_all().unwrap().iter().map(|i| i.id().to_string()).collect();
    assert_eq!(stored, vec!["a1", "a11", "a12", "a2", "a7", "a8"]);
    let shirt = store.get(&id("a1")).unwrap().unwrap();
    assert_eq!(shirt.modality(), Modality::TextAndImage);
    let Some(ImageRef::File { path, width, height }) = shirt.image() else { panic!("expected a file image") };
    assert!(Path::new(path).is_absolute() && path.ends_with("photos/ok.png"));
    assert_eq!((*width, *height), (2, 3));
    let jeans = store.get(&id("a2")).unwrap().unwrap();
    assert_eq!(jeans.attributes().price.unwrap().value(), 45.0);
    assert_eq!(jeans.attributes().gender, Some(Gender::Women));
    assert_eq!(jeans.description(), Some("Slim fit"));
}

#[test]
fn reingesting_changes_nothing_and_an_updated_row_updates_its_item() {
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), "shop.csv", "id,title,colour\n1,Red Dress,Red\n2,Blue Dress,Blue\n");
    let store = store(&dir);
    let first = ingest(&file, SourceFormat::Generic, &store).unwrap();
    assert_eq!((first.new, first.updated, first.unchanged), (2, 0, 0));
    let revision = store.revision().unwrap();

    let again = ingest(&file, SourceFormat::Generic, &store).unwrap();
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(store.revision().unwrap(), revision, "an unchanged file must not touch the store");

    write(dir.path(), "shop.csv", "id,title,colour\n1,Red Dress,Crimson\n2,Blue Dress,Blue\n3,Green Scarf,Green\n");
    let changed = ingest(&file, SourceFormat::Generic, &store).unwrap();
    assert_eq!((changed.new, changed.updated, changed.unchanged), (1, 1, 1));
    assert!(store.revision().unwrap() > revision);
    assert_eq!(store.get(&id("1")).unwrap().unwrap().attributes().colour.as_deref(), Some("Crimson"));
}

#[test]
fn the_store_persists_across_reopening() {
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), "shop.csv", "id,title\n1,Red Dress\n");
    ingest(&file, SourceFormat::Generic, &store(&dir)).unwrap();
    let reopened = store(&dir);
    assert_eq!(reopened.len().unwrap(), 1);
    assert_eq!(reopened.get(&id("1")).unwrap().unwrap().title(), Some("Red Dress"));
}

#[test]
fn an_unknown_layout_names_the_missing_columns_and_suggests_the_right_one() {
    let dir = TempDir::new().unwrap();
    let file = write(dir.path(), "styles.csv", "sku,name,colour\n1,Shirt,Red\n");
    let err = ingest(&file, SourceFormat::Myntra, &store(&dir)).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, CatalogError::UnknownLayout { looks_like: Some(SourceFormat::Generic), .. }));
    assert!(message.contains("missing column(s) id, gender, mastercategory"), "{message}");
    assert!(message.contains("the header has sku, name, colour"), "{message}");
    assert!(message.contains("try --format generic"), "{message}");
}

#[test]
fn a_directory_without_the_layout_file_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let err = ingest(dir.path(), SourceFormat::Hm, &store(&dir)).unwrap_err();
    assert!(err.to_string().ends_with("does not contain articles.csv"), "{err}");
}

#[test]
fn json_lines_ingest_with_line_numbers() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "img/1.png", PNG_2X3);
    let file = write(
        dir.path(),
        "shop.jsonl",
        "{\"id\": 1, \"name\": \"Linen Shirt\", \"image_url\": \"img/1.png\", \"price\": 30}\n\
         \n\
         {\"sku\": \"2\", \"title\": \"Wool Coat\", \"image\": \"https://cdn.example/2.jpg\", \"color\": \"Grey\"}\n\
         {broken\n\
         {\"id\": \"4\", \"title\": {\"en\": \"Hat\"}}\n",
    );
    let store = store(&dir);
    let report = ingest(&file, SourceFormat::Generic, &store).unwrap();
    assert_eq!((report.read, report.ingested(), report.rejected), (4, 2, 2));
    assert_eq!(issues(&report, IssueOutcome::Rejected).iter().map(|i| i.0).collect::<Vec<_>>(), vec![4, 5]);
    let coat = store.get(&id("2")).unwrap().unwrap();
    assert_eq!(coat.image(), Some(&ImageRef::Url { url: "https://cdn.example/2.jpg".into() }));
    assert_eq!(coat.attributes().colour.as_deref(), Some("Grey"));
}

#[test]
fn hm_articles_map_onto_items_with_their_photos() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "images/010/0108775015.jpg", PNG_2X3);
    write(
        dir.path(),
        "articles.csv",
        "article_id,prod_name,product_type_name,product_group_name,colour_group_name,index_group_name,garment_group_name,detail_desc\n\
         0108775015,Strap top,Vest top,Garment Upper body,Black,Ladieswear,Jersey Basic,Jersey top with narrow shoulder straps.\n\
         108775044,Strap top,Vest top,Garment Upper body,White,Baby/Children,Jersey Basic,\n",
    );
    let store = store(&dir);
    let report = ingest(dir.path(), SourceFormat::Hm, &store).unwrap();
    assert_eq!((report.ingested(), report.with_image, report.text_only), (2, 1, 1));
    let top = store.get(&id("0108775015")).unwrap().unwrap();
    assert_eq!(top.modality(), Modality::TextAndImage);
    assert_eq!(top.attributes().gender, Some(Gender::Women));
    assert_eq!(top.attributes().article_type.as_deref(), Some("Vest top"));
    assert_eq!(top.description(), Some("Jersey top with narrow shoulder straps."));
    let padded = store.get(&id("0108775044")).unwrap().unwrap();
    assert_eq!(padded.attributes().gender, None);
}

#[test]
fn myntra_rows_with_unquoted_commas_keep_their_full_name() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "images/7.jpg", PNG_2X3);
    write(
        dir.path(),
        "styles.csv",
        "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n\
         7,Men,Apparel,Topwear,Tshirts,NA,Summer,2012,Casual,Puma Men, Red, Printed T-shirt\n",
    );
    let store = store(&dir);
    ingest(dir.path(), SourceFormat::Myntra, &store).unwrap();
    let item = store.get(&id("7")).unwrap().unwrap();
    assert_eq!(item.title(), Some("Puma Men, Red, Printed T-shirt"));
    assert_eq!(item.attributes().colour, None, "NA means missing");
    assert_eq!(item.attributes().brand.as_deref(), Some("Puma"));
    assert_eq!(item.modality(), Modality::TextAndImage);
}

#[test]
fn the_real_myntra_catalogue() {
    let dir = TempDir::new().unwrap();
    let store = store(&dir);
    let report = ingest(&myntra_dir(), SourceFormat::Myntra, &store).unwrap();
    assert_eq!(report.read, 44_446);
    assert_eq!(report.with_image, 11_882);
    // Seven rows have neither a name ("NA") nor a photo.
    assert_eq!(report.rejected, 7);
    assert_eq!(report.ingested(), 44_439);
    assert_eq!(report.text_only, 44_439 - 11_882);
    assert_eq!(issues(&report, IssueOutcome::Rejected)[0].0, 3_679);
    assert_eq!(store.len().unwrap(), 44_439);

    let again = ingest(&myntra_dir(), SourceFormat::Myntra, &store).unwrap();
    assert_eq!(again.unchanged, 44_439);
    let shirt = store.get(&id("15970")).unwrap().unwrap();
    assert_eq!(shirt.title(), Some("Turtle Check Men Navy Blue Shirt"));
    assert_eq!(shirt.attributes().article_type.as_deref(), Some("Shirts"));
}
