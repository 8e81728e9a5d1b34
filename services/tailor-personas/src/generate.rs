//! Seeded synthetic users and their ratings. Each user belongs to a persona, shops for one of its
//! genders and keeps a personal subset of its preferences, a taste vector pulled towards one item
//! it loves, a rating bias and noise. Within the persona each user has a sub-style taken from the
//! item it loves: one or two focus article types, favourite brands, a favourite colour and a price
//! band, which it browses more and rates higher, so its likes hang together at the item level. An item's rating grows with the attribute matches and with
//! the cosine between the user's taste and the item's vector (standardised per user); scores
//! outside 1-10 are clipped and counted. Users rate items they browse: mostly their persona's
//! shelves, weighted by a seeded item popularity, plus some of their gender's section and some of
//! anything, so the popularity baseline has something real to find.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tailor_core::vector::dot;
use tailor_core::{Attributes, Embedding, Gender, ItemId, PriceBand, PriceBands, RATING_MAX, RATING_MIN};
use tailor_events::{EventSource, Interaction, InteractionKind, SubjectKind};

use crate::{LlmRater, Persona, PersonaError};

pub struct CatalogueItem<'a> {
    pub id: &'a ItemId,
    /// What an LLM rater reads, with the attributes.
    pub title: Option<&'a str>,
    pub attributes: &'a Attributes,
    pub vector: &'a Embedding,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    pub users: usize,
    /// Each user rates between half and one and a half times this many items.
    pub ratings_per_user: usize,
    pub seed: u64,
    /// Sessions start within the week before this time.
    pub now_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerationSummary {
    /// Users per persona, in the file's order.
    pub users: Vec<(String, usize)>,
    pub ratings: usize,
    pub likes: usize,
    pub dislikes: usize,
    pub clipped_low: usize,
    pub clipped_high: usize,
    /// Ratings by value, 1 to 10.
    pub histogram: [usize; 10],
}

pub struct Generated {
    pub events: Vec<Interaction>,
    pub summary: GenerationSummary,
}

/// How much each matched preference adds to an item's score, in rating points.
const ARTICLE_TYPE: f32 = 1.6;
const COLOUR: f32 = 0.9;
const USAGE: f32 = 0.7;
const SEASON: f32 = 0.4;
const PRICE_BAND: f32 = 0.6;
const EMBEDDING: f32 = 1.3;
/// A user's own sub-style, on top of the persona's preferences.
const FOCUS_TYPE: f32 = 1.2;
const FAVOURITE_BRAND: f32 = 0.6;
const FAVOURITE_COLOUR: f32 = 0.5;
const OWN_PRICE_BAND: f32 = 0.4;
/// Items for another gender are rarely wanted.
const WRONG_GENDER: f32 = -3.0;
/// Chosen with the sub-style bonuses so that ratings centre where the seed report's did (mean 5.5).
const BASE_RATING: f32 = 3.4;
const NOISE: f32 = 0.8;
/// Share of each user's ratings from the user's focus shelf (its focus article types), from the
/// persona's shelves and from the user's gender section; the rest is anything in the catalogue.
const FROM_FOCUS: f64 = 0.3;
const FROM_SHELVES: f64 = 0.3;
const FROM_SECTION: f64 = 0.25;
/// Brands a user favours: the loved item's and those of this many more of its focus shelf.
const MORE_BRANDS: usize = 2;
const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
/// The standard deviation of log popularity: the top 1% of items draw about a fifth of the
/// browsing.
const POPULARITY_SPREAD: f64 = 1.5;

/// A standard normal sample (Box-Muller), so the crate needs no distribution library.
fn normal(rng: &mut StdRng) -> f32 {
    let (u, v): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
    ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
}

fn matches(list: &[String], value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| list.iter().any(|wanted| wanted.eq_ignore_ascii_case(v.trim())))
}

fn gender_fits(shops_for: Gender, item: &Attributes) -> bool {
    matches!(item.gender, Some(g) if g == shops_for || g == Gender::Unisex) || item.gender.is_none()
}

/// One synthetic user's individual version of a persona.
struct User<'p> {
    persona: &'p Persona,
    gender: Gender,
    article_types: Vec<String>,
    colours: Vec<String>,
    /// The sub-style: article types, brands and colour of the item it loves, and its price band.
    focus_types: Vec<String>,
    brands: Vec<String>,
    colour: Option<String>,
    price_band: Option<PriceBand>,
    taste: Embedding,
    bias: f32,
}

/// Keeps each value with probability 0.8, and at least one.
fn personal_subset(rng: &mut StdRng, values: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = values.iter().filter(|_| rng.random_bool(0.8)).cloned().collect();
    if kept.is_empty() && !values.is_empty() {
        kept.push(values[rng.random_range(0..values.len())].clone());
    }
    kept
}

impl User<'_> {
    fn score(&self, item: &CatalogueItem<'_>, bands: Option<&PriceBands>, cosine_z: f32) -> f32 {
        let a = item.attributes;
        let mut score = EMBEDDING * cosine_z;
        if !gender_fits(self.gender, a) {
            score += WRONG_GENDER;
        }
        score += ARTICLE_TYPE * f32::from(matches(&self.article_types, &a.article_type) as u8);
        score += COLOUR * f32::from(matches(&self.colours, &a.colour) as u8);
        score += USAGE * f32::from(matches(&self.persona.usages, &a.usage) as u8);
        score += SEASON * f32::from(matches(&self.persona.seasons, &a.season) as u8);
        let band = bands.zip(a.price).map(|(bands, price)| bands.band(price));
        score += PRICE_BAND * f32::from(band.is_some_and(|b| self.persona.price_bands.contains(&b)) as u8);
        score += FOCUS_TYPE * f32::from(matches(&self.focus_types, &a.article_type) as u8);
        score += FAVOURITE_BRAND * f32::from(matches(&self.brands, &a.brand) as u8);
        score += FAVOURITE_COLOUR
            * f32::from(self.colour.is_some() && self.colour == a.colour.as_deref().map(str::to_lowercase));
        score += OWN_PRICE_BAND * f32::from(band.is_some() && band == self.price_band);
        score
    }
}

/// Users, their ratings and the likes and dislikes that follow from them. `descriptions[i]` is
/// persona `i`'s description in the items' space. With an LLM rater, the persona's rating comes
/// from the model instead of the attribute and embedding score; each user's bias and noise apply
/// either way.
pub fn generate(
    personas: &[Persona],
    descriptions: &[Embedding],
    catalogue: &[CatalogueItem<'_>],
    options: &GenerateOptions,
    mut llm: Option<&mut LlmRater>,
) -> Result<Generated, PersonaError> {
    if personas.len() != descriptions.len() {
        return Err(PersonaError::VectorCountMismatch(personas.len(), descriptions.len()));
    }
    if catalogue.is_empty() {
        return Err(PersonaError::EmptyCatalogue);
    }
    let mut rng = StdRng::seed_from_u64(options.seed);
    let bands = PriceBands::from_prices(catalogue.iter().filter_map(|item| item.attributes.price));
    // A long-tailed popularity per item (log-normal): browsing favours popular items, as shop
    // traffic does.
    let popularity: Vec<f64> =
        catalogue.iter().map(|_| (POPULARITY_SPREAD * f64::from(normal(&mut rng))).exp()).collect();
    let shelves: Vec<Vec<(Gender, Shelf)>> = personas
        .iter()
        .map(|persona| {
            let shelves: Vec<(Gender, Shelf)> = persona
                .genders
                .iter()
                .map(|&gender| {
                    let rows = (0..catalogue.len()).filter(|&i| {
                        let a = catalogue[i].attributes;
                        gender_fits(gender, a) && matches(&persona.article_types, &a.article_type)
                    });
                    (gender, Shelf::new(rows, &popularity))
                })
                .collect();
            if shelves.iter().all(|(_, shelf)| shelf.is_empty()) {
                return Err(PersonaError::NoMatchingItems { name: persona.name.clone() });
            }
            Ok(shelves)
        })
        .collect::<Result<_, _>>()?;
    let sections: Vec<(Gender, Shelf)> = Gender::ALL
        .iter()
        .map(|&g| {
            (g, Shelf::new((0..catalogue.len()).filter(|&i| gender_fits(g, catalogue[i].attributes)), &popularity))
        })
        .collect();

    let mut summary = GenerationSummary {
        users: personas.iter().map(|p| (p.name.clone(), 0)).collect(),
        ..GenerationSummary::default()
    };
    let mut events = Vec::new();
    for index in 0..options.users {
        let p = index % personas.len();
        let persona = &personas[p];
        summary.users[p].1 += 1;
        // Shop for a gender that has shelves.
        let usable: Vec<&(Gender, Shelf)> = shelves[p].iter().filter(|(_, shelf)| !shelf.is_empty()).collect();
        let (gender, shelf) = usable[rng.random_range(0..usable.len())];
        let loved = &catalogue[shelf.pick(&mut rng)];
        let taste = Embedding::new(
            descriptions[p].as_slice().iter().zip(loved.vector.as_slice()).map(|(d, l)| d + 0.5 * l).collect(),
            loved.vector.dim(),
        )?;
        let article_types = personal_subset(&mut rng, &persona.article_types);
        let lower = |value: &Option<String>| value.as_deref().map(str::to_lowercase);
        // The loved item's type, and now and then a second of the user's types.
        let mut focus_types: Vec<String> = lower(&loved.attributes.article_type).into_iter().collect();
        if rng.random_bool(0.4) {
            focus_types.push(article_types[rng.random_range(0..article_types.len())].clone());
        }
        let focus = Shelf::new(
            (0..catalogue.len()).filter(|&i| {
                let a = catalogue[i].attributes;
                gender_fits(*gender, a) && matches(&focus_types, &a.article_type)
            }),
            &popularity,
        );
        let mut brands: Vec<String> = lower(&loved.attributes.brand).into_iter().collect();
        if !focus.is_empty() {
            brands.extend((0..MORE_BRANDS).filter_map(|_| lower(&catalogue[focus.pick(&mut rng)].attributes.brand)));
        }
        let user = User {
            persona,
            gender: *gender,
            article_types,
            colours: personal_subset(&mut rng, &persona.colours),
            focus_types,
            brands,
            colour: lower(&loved.attributes.colour),
            price_band: bands.as_ref().zip(loved.attributes.price).map(|(bands, price)| bands.band(price)),
            taste,
            bias: 0.6 * normal(&mut rng),
        };
        let section = &sections.iter().find(|(g, _)| g == gender).expect("every gender has a section").1;
        let count = rng.random_range(options.ratings_per_user / 2..=options.ratings_per_user * 3 / 2).max(1);
        let mut picked = HashSet::new();
        for _ in 0..count * 4 {
            if picked.len() == count.min(catalogue.len()) {
                break;
            }
            let draw: f64 = rng.random();
            let row = if draw < FROM_FOCUS && !focus.is_empty() {
                focus.pick(&mut rng)
            } else if draw < FROM_FOCUS + FROM_SHELVES {
                shelf.pick(&mut rng)
            } else if draw < FROM_FOCUS + FROM_SHELVES + FROM_SECTION && !section.is_empty() {
                section.pick(&mut rng)
            } else {
                rng.random_range(0..catalogue.len())
            };
            picked.insert(row);
        }
        let mut rows: Vec<usize> = picked.into_iter().collect();
        rows.sort_unstable();
        // Standardise the taste cosine over what this user sees, so EMBEDDING means the same for
        // every user whatever the space's spread.
        let cosines: Vec<f32> =
            rows.iter().map(|&r| dot(user.taste.as_slice(), catalogue[r].vector.as_slice())).collect();
        let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
        let spread = (cosines.iter().map(|c| (c - mean).powi(2)).sum::<f32>() / cosines.len() as f32).sqrt().max(1e-6);
        let subject = format!("persona-{}-{index:05}", persona.name);
        let mut at_ms = options.now_ms - rng.random_range(0..WEEK_MS);
        for (n, (&row, cosine)) in rows.iter().zip(&cosines).enumerate() {
            let item = &catalogue[row];
            let persona_rating = match llm.as_deref_mut() {
                Some(rater) => {
                    rater.rate(persona, item.id.as_str(), item.title.unwrap_or(item.id.as_str()), item.attributes)?
                }
                None => BASE_RATING + user.score(item, bands.as_ref(), (cosine - mean) / spread),
            };
            let raw = persona_rating + user.bias + NOISE * normal(&mut rng);
            let rating = raw.round();
            let clipped = rating.clamp(RATING_MIN, RATING_MAX);
            summary.clipped_low += usize::from(rating < RATING_MIN);
            summary.clipped_high += usize::from(rating > RATING_MAX);
            summary.histogram[clipped as usize - 1] += 1;
            summary.ratings += 1;
            at_ms += rng.random_range(3_000..60_000);
            let event = |suffix: &str, kind: InteractionKind, value: Option<f32>| Interaction {
                event_id: format!("persona-{:x}-{index}-{n}-{suffix}", options.seed),
                subject: subject.clone(),
                subject_kind: SubjectKind::User,
                item_id: item.id.to_string(),
                kind,
                value,
                timestamp_ms: at_ms,
                source: EventSource::Persona,
            };
            events.push(event("r", InteractionKind::Rating, Some(clipped)));
            if clipped >= 8.0 && rng.random_bool(0.6) {
                events.push(event("l", InteractionKind::Like, None));
                summary.likes += 1;
            } else if clipped <= 3.0 && rng.random_bool(0.4) {
                events.push(event("d", InteractionKind::Dislike, None));
                summary.dislikes += 1;
            }
        }
    }
    Ok(Generated { events, summary })
}

/// Rows to browse, each drawn with probability proportional to its popularity.
struct Shelf {
    rows: Vec<usize>,
    /// Running totals of the rows' popularity, for sampling by bisection.
    cumulative: Vec<f64>,
}

impl Shelf {
    fn new(rows: impl Iterator<Item = usize>, popularity: &[f64]) -> Shelf {
        let rows: Vec<usize> = rows.collect();
        let mut total = 0.0;
        let cumulative = rows.iter().map(|&r| {
            total += popularity[r];
            total
        });
        Shelf { cumulative: cumulative.collect(), rows }
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let target = rng.random_range(0.0..*self.cumulative.last().expect("picked from non-empty shelves"));
        self.rows[self.cumulative.partition_point(|&c| c <= target).min(self.rows.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DEFAULT_PERSONAS, PersonaFile};

    fn unit(values: Vec<f32>) -> Embedding {
        let dim = values.len();
        Embedding::new(values, dim).unwrap()
    }

    struct Shop {
        ids: Vec<ItemId>,
        attributes: Vec<Attributes>,
        vectors: Vec<Embedding>,
    }

    impl Shop {
        fn catalogue(&self) -> Vec<CatalogueItem<'_>> {
            (0..self.ids.len())
                .map(|i| CatalogueItem {
                    id: &self.ids[i],
                    title: None,
                    attributes: &self.attributes[i],
                    vector: &self.vectors[i],
                })
                .collect()
        }
    }

    /// Shirts point one way, dresses another; half of each are black.
    fn shop() -> Shop {
        let mut shop = Shop { ids: Vec::new(), attributes: Vec::new(), vectors: Vec::new() };
        for i in 0..200 {
            let (article, gender, vector) = if i % 2 == 0 {
                ("Shirts", Gender::Men, vec![1.0, 0.1])
            } else {
                ("Dresses", Gender::Women, vec![0.1, 1.0])
            };
            shop.ids.push(ItemId::new(format!("i{i}")).unwrap());
            shop.attributes.push(Attributes {
                gender: Some(gender),
                article_type: Some(article.into()),
                colour: Some(if i % 4 < 2 { "Black" } else { "Pink" }.into()),
                ..Attributes::default()
            });
            shop.vectors.push(unit(vector.iter().map(|x| x + (i as f32 * 0.37).sin() * 0.2).collect()));
        }
        shop
    }

    fn personas() -> Vec<Persona> {
        let text = r#"
            version = 1
            [[persona]]
            name = "office"
            description = "shirts"
            genders = ["men"]
            article_types = ["shirts"]
            colours = ["black"]
            [[persona]]
            name = "party"
            description = "dresses"
            genders = ["women"]
            article_types = ["dresses"]
        "#;
        PersonaFile::parse(text).unwrap().personas
    }

    fn run(seed: u64) -> Generated {
        let shop = shop();
        let catalogue = shop.catalogue();
        let descriptions = [unit(vec![1.0, 0.0]), unit(vec![0.0, 1.0])];
        let options = GenerateOptions { users: 40, ratings_per_user: 30, seed, now_ms: 1_000_000_000_000 };
        generate(&personas(), &descriptions, &catalogue, &options, None).unwrap()
    }

    #[test]
    fn ratings_follow_the_persona_and_stay_in_range() {
        let generated = run(7);
        let mean = |persona: &str, article: &str| {
            let ratings: Vec<f32> = generated
                .events
                .iter()
                .filter(|e| e.kind == InteractionKind::Rating && e.subject.contains(persona))
                .filter(|e| {
                    let i: usize = e.item_id[1..].parse().unwrap();
                    i.is_multiple_of(2) == (article == "shirts")
                })
                .map(|e| e.value.unwrap())
                .collect();
            ratings.iter().sum::<f32>() / ratings.len() as f32
        };
        assert!(mean("office", "shirts") > mean("office", "dresses") + 3.0);
        assert!(mean("party", "dresses") > mean("party", "shirts") + 3.0);
        let summary = &generated.summary;
        assert_eq!(summary.users, [("office".into(), 20), ("party".into(), 20)]);
        assert_eq!(summary.histogram.iter().sum::<usize>(), summary.ratings);
        assert!(summary.clipped_low > 0, "wrong-gender items fall below 1 and are counted");
        for event in &generated.events {
            assert!(event.clone().check().is_ok(), "{event:?}");
        }
        let ids: HashSet<&str> = generated.events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), generated.events.len(), "event ids are unique");
    }

    #[test]
    fn a_seed_reproduces_its_events() {
        assert_eq!(run(3).events, run(3).events);
        assert_ne!(run(3).events, run(4).events);
    }

    #[test]
    fn a_persona_without_items_is_named() {
        let shop = shop();
        let catalogue = shop.catalogue();
        let file = PersonaFile::parse(DEFAULT_PERSONAS).unwrap();
        let descriptions = vec![unit(vec![1.0, 0.0]); file.personas.len()];
        let options = GenerateOptions { users: 1, ratings_per_user: 1, seed: 1, now_ms: 0 };
        let error = generate(&file.personas, &descriptions, &catalogue, &options, None).err().unwrap();
        assert!(matches!(error, PersonaError::NoMatchingItems { .. }), "{error}");
    }
}
