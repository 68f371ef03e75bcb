//! Five hundred assets: laptops, phones, servers, storage, network gear,
//! printers, capitalised software, licences, contracts and cloud commitments,
//! in every lifecycle state. Their ages are spread over their useful lives, so
//! some reach end of life within the next twelve months.

use chrono::{Days, Months, NaiveDate};
use rand::Rng;
use rust_decimal::Decimal;

use super::batch::{Table, row};
use super::finance::Org;
use super::{Context, pick};

/// One kind of asset the company owns, and how it is accounted for.
struct Template {
    kind: &'static str,
    /// Hardware has serial numbers, warranties and a wider range of states.
    hardware: bool,
    /// Hostname prefix of hardware; unused for the rest.
    prefix: &'static str,
    models: &'static [&'static str],
    cost_dollars: (i64, i64),
    /// Useful life, or for licences, contracts and commitments, the term.
    life_months: &'static [u32],
    methods: &'static [&'static str],
    convention: &'static str,
    residual_percent: i64,
    warranty_months: Option<u32>,
    /// (cost center, service) pairs the asset is assigned to.
    placements: &'static [(&'static str, &'static str)],
    vendors: &'static [&'static str],
    /// The cost type its purchase is booked on.
    cost_type: &'static str,
    /// Tax depreciation (method, convention, life in months) where it differs from the books.
    tax: Option<(&'static str, &'static str, i64)>,
    count: usize,
}

/// Servers, storage and network gear depreciate faster for tax: five-year
/// double declining balance with the half-year convention, as US MACRS does.
const TAX_FIVE_YEAR: Option<(&str, &str, i64)> = Some(("double_declining_balance", "half_year", 60));

const END_USERS: &[(&str, &str)] = &[
    ("IT-SD", "EUC"),
    ("BU-SALES", "EUC"),
    ("BU-SALES", "EUC"),
    ("BU-MKT", "EUC"),
    ("BU-FIN", "EUC"),
    ("BU-OPS", "EUC"),
    ("BU-HR", "EUC"),
    ("IT-APP", "EUC"),
    ("IT-INF", "EUC"),
    ("IT-DATA", "EUC"),
    ("IT-SEC", "EUC"),
];

const TEMPLATES: &[Template] = &[
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "LT",
        models: &["Vireo 14 Laptop", "Vireo 16 Pro Laptop", "Kite 13 Ultrabook"],
        cost_dollars: (1_100, 2_600),
        life_months: &[48],
        methods: &["straight_line"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: Some(36),
        placements: END_USERS,
        vendors: &["Granite Peak Hardware", "Bluepeak Systems"],
        cost_type: "HW",
        tax: None,
        count: 160,
    },
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "MB",
        models: &["Pico 6 Smartphone", "Pico 6 Max Smartphone"],
        cost_dollars: (600, 1_100),
        life_months: &[36],
        methods: &["straight_line"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: Some(12),
        placements: &[("BU-SALES", "EUC"), ("BU-OPS", "EUC"), ("IT-SD", "EUC")],
        vendors: &["Meridian Line Telecom"],
        cost_type: "HW",
        tax: None,
        count: 40,
    },
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "SV",
        models: &["Atlas 1U Rack Server", "Atlas 2U Rack Server", "Atlas GPU Server"],
        cost_dollars: (7_000, 32_000),
        life_months: &[60],
        methods: &["straight_line", "straight_line", "declining_balance"],
        convention: "half_year",
        residual_percent: 5,
        warranty_months: Some(36),
        placements: &[("IT-INF", "HOST"), ("IT-INF", "HOST"), ("IT-DATA", "DATA"), ("IT-INF", "ERP")],
        vendors: &["Bluepeak Systems", "Granite Peak Hardware"],
        cost_type: "HW",
        tax: TAX_FIVE_YEAR,
        count: 55,
    },
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "ST",
        models: &["Vault 24 Storage Array", "Vault 48 Storage Array"],
        cost_dollars: (40_000, 160_000),
        life_months: &[60],
        methods: &["double_declining_balance"],
        convention: "half_year",
        residual_percent: 5,
        warranty_months: Some(36),
        placements: &[("IT-INF", "STOR")],
        vendors: &["Bluepeak Systems"],
        cost_type: "HW",
        tax: TAX_FIVE_YEAR,
        count: 10,
    },
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "NW",
        models: &["Corvid 48-port Switch", "Corvid Core Router", "Wren Wireless Access Point", "Bastion Firewall"],
        cost_dollars: (400, 18_000),
        life_months: &[72],
        methods: &["straight_line"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: Some(36),
        placements: &[("IT-INF", "NET"), ("IT-INF", "NET"), ("IT-SEC", "SEC"), ("BU-OPS", "NET")],
        vendors: &["Harborline Networks"],
        cost_type: "HW",
        tax: TAX_FIVE_YEAR,
        count: 60,
    },
    Template {
        kind: "hardware",
        hardware: true,
        prefix: "PR",
        models: &["Quire Multifunction Printer"],
        cost_dollars: (1_500, 6_000),
        life_months: &[60],
        methods: &["sum_of_years_digits"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: Some(24),
        placements: &[("IT-SD", "EUC")],
        vendors: &["Granite Peak Hardware"],
        cost_type: "HW",
        tax: None,
        count: 15,
    },
    Template {
        kind: "software",
        hardware: false,
        prefix: "",
        models: &["ERP customisation release", "Data platform ingestion framework", "CRM integration layer", "Self-service portal", "Warehouse app release"],
        cost_dollars: (25_000, 250_000),
        life_months: &[36],
        methods: &["straight_line"],
        convention: "daily",
        residual_percent: 0,
        warranty_months: None,
        placements: &[("IT-APP", "ERP"), ("IT-DATA", "DATA"), ("IT-APP", "CRM"), ("IT-APP", "WEB")],
        vendors: &["Silverbirch Software", "Tallowmere Consulting"],
        cost_type: "SW-CAP",
        tax: None,
        count: 25,
    },
    Template {
        kind: "licence",
        hardware: false,
        prefix: "",
        models: &[
            "Office suite subscription",
            "CRM user licences",
            "Endpoint protection licences",
            "Analytics workbench licences",
            "Design tools licences",
            "Database enterprise licence",
        ],
        cost_dollars: (5_000, 180_000),
        life_months: &[12, 12, 36],
        methods: &["none"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: None,
        placements: &[("IT-SD", "EMAIL"), ("BU-SALES", "CRM"), ("IT-SEC", "SEC"), ("IT-DATA", "DATA"), ("BU-MKT", "WEB"), ("IT-APP", "ERP")],
        vendors: &["Evergale Licensing", "Silverbirch Software", "Ironvale Security", "Quillstone Analytics"],
        cost_type: "LIC",
        tax: None,
        count: 60,
    },
    Template {
        kind: "contract",
        hardware: false,
        prefix: "",
        models: &[
            "Hardware maintenance contract",
            "Managed network services contract",
            "Data center colocation agreement",
            "Service desk outsourcing contract",
            "Telecom circuit agreement",
        ],
        cost_dollars: (20_000, 400_000),
        life_months: &[12, 24, 36],
        methods: &["none"],
        convention: "full_month",
        residual_percent: 0,
        warranty_months: None,
        placements: &[("IT-INF", "HOST"), ("IT-INF", "NET"), ("IT-INF", "DC"), ("IT-SD", "SD")],
        vendors: &["Ashgrove Managed Services", "Brightwater Facilities", "Meridian Line Telecom", "Bluepeak Systems"],
        cost_type: "MAINT",
        tax: None,
        count: 35,
    },
    Template {
        kind: "cloud_resource",
        hardware: false,
        prefix: "",
        models: &["Reserved compute instances", "Managed database cluster", "Object storage commitment", "Kubernetes cluster", "Data warehouse capacity"],
        cost_dollars: (3_000, 90_000),
        life_months: &[12, 36],
        methods: &["none"],
        convention: "daily",
        residual_percent: 0,
        warranty_months: None,
        placements: &[("IT-INF", "HOST"), ("IT-DATA", "DATA"), ("IT-INF", "STOR"), ("IT-APP", "CRM"), ("IT-APP", "WEB")],
        vendors: &["Northwind Cloud", "Skyfold Platforms"],
        cost_type: "CLOUD",
        tax: None,
        count: 40,
    },
];

/// Lifecycle states with their weights: most assets are in use.
const HARDWARE_STATES: &[(&str, u32)] = &[
    ("deployed", 60),
    ("in_stock", 8),
    ("in_maintenance", 5),
    ("retired", 12),
    ("disposed", 7),
    ("ordered", 4),
    ("requested", 4),
];
const OTHER_STATES: &[(&str, u32)] = &[("deployed", 75), ("retired", 15), ("ordered", 5), ("requested", 5)];

/// The purchase of an asset, booked in the ledger when it falls in its window.
pub struct Purchase {
    pub asset_id: String,
    pub name: String,
    pub date: NaiveDate,
    pub cost_center: usize,
    pub cost_type: usize,
    pub service: &'static str,
    pub vendor: &'static str,
    pub cents: i64,
}

const COLUMNS: &[&str] = &[
    "id", "name", "kind", "state", "asset_tag", "serial_number", "model", "vendor_id", "purchase_cost", "currency",
    "acquisition_date", "in_service_date", "warranty_end", "end_of_life", "depreciation_method", "depreciation_convention",
    "useful_life_months", "residual_value", "cost_center_id", "service_id", "created_at", "updated_at", "version",
    "cost_type_id", "tax_depreciation_method", "tax_depreciation_convention", "tax_useful_life_months", "tax_residual_value",
];

/// The dates of one asset's life.
struct Life {
    acquired: Option<NaiveDate>,
    in_service: Option<NaiveDate>,
    end_of_life: Option<NaiveDate>,
}

pub fn build(ctx: &mut Context, org: &Org) -> (Vec<Table>, Vec<Purchase>) {
    let now = ctx.now;
    let mut assets = Table::new("assets", COLUMNS);
    let mut source_ids = Table::new("asset_source_ids", &["asset_id", "source", "external_id"]);
    let mut purchases = Vec::new();
    let mut number = 0;
    for t in TEMPLATES {
        for _ in 0..t.count {
            number += 1;
            let id = ctx.id();
            let rng = &mut ctx.rng;
            let state = weighted(rng, if t.hardware { HARDWARE_STATES } else { OTHER_STATES });
            let model = *pick(rng, t.models);
            let life_months = *pick(rng, t.life_months);
            let method = *pick(rng, t.methods);
            let &(cost_center, service) = pick(rng, t.placements);
            let vendor = *pick(rng, t.vendors);
            let cents = rng.random_range(t.cost_dollars.0 * 100..=t.cost_dollars.1 * 100);
            let residual = cents * t.residual_percent / 100 / 100 * 100;
            let life = life_of(rng, ctx.today, state, life_months);
            let warranty_end = t.warranty_months.zip(life.acquired).map(|(m, acquired)| acquired + Months::new(m));
            let (name, serial) = if t.hardware {
                (format!("{}-{number:05} {model}", t.prefix), Some(serial_number(rng)))
            } else {
                let year = life.acquired.map(|d| d.format(" (%Y)").to_string()).unwrap_or_default();
                (format!("{model}{year}"), None)
            };
            let tag = format!("AST-{number:05}");
            let depreciates = method != "none";
            let tax = t.tax.filter(|_| depreciates);
            assets.push(row![
                &id,
                &name,
                t.kind,
                state,
                tag,
                serial,
                model,
                &org.vendor(vendor).id,
                Decimal::new(cents, 2),
                ctx.currency.as_str(),
                life.acquired,
                life.in_service,
                warranty_end,
                life.end_of_life,
                method,
                t.convention,
                depreciates.then_some(i64::from(life_months)),
                Decimal::new(residual, 2),
                &org.cost_centers[org.cost_center(cost_center)].id,
                &org.service(service).id,
                now,
                now,
                1i64,
                &org.cost_types[org.cost_type(t.cost_type)].id,
                tax.map(|(method, _, _)| method),
                tax.map(|(_, convention, _)| convention),
                tax.map(|(_, _, months)| months),
                tax.map(|_| Decimal::ZERO),
            ]);
            source_ids.push(row![&id, "demo", format!("demo-asset-{number:05}")]);
            if let Some(date) = life.acquired.filter(|d| *d >= ctx.first_month) {
                purchases.push(Purchase {
                    asset_id: id,
                    name,
                    date,
                    cost_center: org.cost_center(cost_center),
                    cost_type: org.cost_type(t.cost_type),
                    service,
                    vendor,
                    cents,
                });
            }
        }
    }
    (vec![assets, source_ids], purchases)
}

/// Acquisition, service and end-of-life dates fitting the state: requested and
/// ordered assets have none yet; deployed ones are anywhere in their life;
/// retired and disposed ones have reached its end.
fn life_of(rng: &mut impl Rng, today: NaiveDate, state: &str, life_months: u32) -> Life {
    let months_ago = |months: u32, rng: &mut dyn rand::RngCore| {
        today - Months::new(months) - Days::new(rng.random_range(0..28))
    };
    let acquired = match state {
        "requested" | "ordered" => return Life { acquired: None, in_service: None, end_of_life: None },
        "in_stock" => today - Days::new(rng.random_range(5..=120)),
        "retired" => months_ago((life_months + rng.random_range(0..=12)).saturating_sub(3), rng),
        "disposed" => months_ago(life_months + rng.random_range(3..=24), rng),
        _ => months_ago(rng.random_range(0..life_months), rng),
    };
    let in_service = (state != "in_stock").then(|| (acquired + Days::new(rng.random_range(0..=20))).min(today));
    let end_of_life = in_service.unwrap_or(acquired) + Months::new(life_months);
    Life { acquired: Some(acquired), in_service, end_of_life: Some(end_of_life) }
}

fn weighted(rng: &mut impl Rng, choices: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(choice, weight) in choices {
        if roll < weight {
            return choice;
        }
        roll -= weight;
    }
    unreachable!("the roll is below the total weight")
}

fn serial_number(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
