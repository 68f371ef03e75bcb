//! The organisation's finance master data: a cost center hierarchy, cost types,
//! vendors, services mapped to TBM v4 towers, and monthly exchange rates.

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::Rng;
use rust_decimal::Decimal;

use super::batch::{Table, row};
use super::{Context, months};

pub struct CostCenter {
    pub id: String,
    pub code: &'static str,
    pub name: &'static str,
    /// Services whose costs this cost center carries; lines pick one of them.
    pub services: &'static [&'static str],
}

pub struct CostType {
    pub id: String,
    pub code: &'static str,
    pub name: &'static str,
    /// Capitalised (depreciated over years) rather than expensed.
    pub capex: bool,
    pub pool_id: &'static str,
    /// The tower of a line that names no service.
    pub default_tower_id: &'static str,
    /// A typical ledger line (an invoice, a payslip), in cents: decides how many
    /// lines a month's spend is booked in.
    pub line_size_cents: i64,
    /// Vendors that bill this kind of cost; none for internal labour.
    pub vendors: &'static [&'static str],
}

impl CostType {
    pub fn is_labour(&self) -> bool {
        self.vendors.is_empty()
    }
}

pub struct Vendor {
    pub id: String,
    pub name: &'static str,
    /// A vendor that invoices in another currency than the reporting one.
    pub bills_in: Option<&'static str>,
}

pub struct Service {
    pub id: String,
    pub code: &'static str,
    pub tower_id: &'static str,
}

/// The master data the portfolio, assets, budgets and ledger refer to.
pub struct Org {
    pub cost_centers: Vec<CostCenter>,
    pub cost_types: Vec<CostType>,
    pub vendors: Vec<Vendor>,
    pub services: Vec<Service>,
    /// Units of a quote currency per unit of the reporting currency, in ten-thousandths, by month.
    rates: HashMap<(NaiveDate, &'static str), i64>,
}

impl Org {
    pub fn cost_center(&self, code: &str) -> usize {
        self.cost_centers.iter().position(|c| c.code == code).unwrap_or_else(|| panic!("demo cost center {code}"))
    }

    pub fn cost_type(&self, code: &str) -> usize {
        self.cost_types.iter().position(|c| c.code == code).unwrap_or_else(|| panic!("demo cost type {code}"))
    }

    pub fn vendor(&self, name: &str) -> &Vendor {
        self.vendors.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("demo vendor {name}"))
    }

    pub fn service(&self, code: &str) -> &Service {
        self.services.iter().find(|s| s.code == code).unwrap_or_else(|| panic!("demo service {code}"))
    }

    /// The currency `vendor` invoices in during `month`, and `cents` of the
    /// reporting currency converted into it. Vendors bill in the reporting
    /// currency unless a rate to their own currency exists for that month.
    pub fn invoice_amount(&self, reporting: &str, vendor: Option<&Vendor>, month: NaiveDate, cents: i64) -> (String, i64) {
        let foreign = vendor.and_then(|v| v.bills_in).and_then(|c| self.rates.get(&(month, c)).map(|rate| (c, *rate)));
        match foreign {
            Some((currency, rate)) => (currency.to_owned(), (i128::from(cents) * i128::from(rate) / 10_000) as i64),
            None => (reporting.to_owned(), cents),
        }
    }
}

/// (code, name, parent, owner, description, services)
type CostCenterSpec = (&'static str, &'static str, Option<&'static str>, &'static str, &'static str, &'static [&'static str]);

const COST_CENTERS: &[CostCenterSpec] = &[
    ("CORP", "Corporate", None, "olivia.grant", "The whole company", &[]),
    ("IT", "Information Technology", Some("CORP"), "daniel.okafor", "Office of the CIO", &["ITM"]),
    ("IT-INF", "Infrastructure", Some("IT"), "priya.raman", "Data centers, hosting, storage and network", &["HOST", "STOR", "NET", "DC"]),
    ("IT-APP", "Applications", Some("IT"), "marcus.lindqvist", "Business applications and integration", &["CRM", "ERP", "HRIS", "WEB"]),
    ("IT-SD", "Service Desk", Some("IT"), "hannah.weiss", "Service desk, devices and collaboration", &["SD", "EUC", "EMAIL"]),
    ("IT-SEC", "Security", Some("IT"), "samuel.adeyemi", "Identity, security operations and compliance", &["SEC"]),
    ("IT-DATA", "Data & Analytics", Some("IT"), "lucia.fernandez", "Data platform and analytics", &["DATA"]),
    ("BU-SALES", "Sales", Some("CORP"), "ethan.brooks", "Direct and partner sales", &["CRM", "EUC"]),
    ("BU-MKT", "Marketing", Some("CORP"), "chloe.martin", "Brand, digital marketing and e-commerce", &["WEB", "CRM"]),
    ("BU-FIN", "Finance", Some("CORP"), "robert.nakamura", "Accounting, controlling and treasury", &["ERP"]),
    ("BU-OPS", "Operations", Some("CORP"), "grace.osei", "Supply chain, warehouses and field service", &["ERP", "NET"]),
    ("BU-HR", "Human Resources", Some("CORP"), "isabel.costa", "People, payroll and recruiting", &["HRIS", "EMAIL"]),
];

/// (code, name, capex, cost pool, default tower, typical line in dollars, vendors)
type CostTypeSpec = (&'static str, &'static str, bool, &'static str, &'static str, i64, &'static [&'static str]);

const COST_TYPES: &[CostTypeSpec] = &[
    ("HW", "Hardware", true, "pool-v4-hardware", "tower-v4-end-user", 3_000, &["Granite Peak Hardware", "Bluepeak Systems", "Harborline Networks"]),
    ("SW-CAP", "Software (capitalised)", true, "pool-v4-software", "tower-v4-application", 20_000, &["Silverbirch Software", "Tallowmere Consulting"]),
    ("LAB-CAP", "Capitalised labour", true, "pool-v4-staffing", "tower-v4-application", 9_500, &[]),
    ("CLOUD", "Cloud services", false, "pool-v4-cloud-services", "tower-v4-compute", 900, &["Northwind Cloud", "Skyfold Platforms", "Cobalt Ridge Data"]),
    ("LIC", "Licences & subscriptions", false, "pool-v4-software", "tower-v4-application", 2_400, &["Silverbirch Software", "Evergale Licensing", "Ironvale Security", "Quillstone Analytics"]),
    ("MAINT", "Maintenance & support", false, "pool-v4-outside-services", "tower-v4-data-center", 6_000, &["Bluepeak Systems", "Ashgrove Managed Services", "Granite Peak Hardware"]),
    ("LAB-INT", "Internal labour", false, "pool-v4-staffing", "tower-v4-it-management", 8_800, &[]),
    ("CONTR", "Contractors", false, "pool-v4-outside-services", "tower-v4-delivery", 14_000, &["Tallowmere Consulting", "Redfern Staffing Partners", "Ashgrove Managed Services"]),
    ("TELCO", "Telecom", false, "pool-v4-telecom", "tower-v4-network", 800, &["Meridian Line Telecom", "Harborline Networks"]),
    ("FAC", "Facilities", false, "pool-v4-facilities-power", "tower-v4-data-center", 30_000, &["Brightwater Facilities"]),
];

/// (name, currency it invoices in when not the reporting one)
const VENDORS: &[(&str, Option<&str>)] = &[
    ("Northwind Cloud", None),
    ("Skyfold Platforms", None),
    ("Cobalt Ridge Data", None),
    ("Bluepeak Systems", None),
    ("Harborline Networks", None),
    ("Granite Peak Hardware", None),
    ("Silverbirch Software", None),
    ("Evergale Licensing", None),
    ("Ironvale Security", None),
    ("Quillstone Analytics", None),
    ("Meridian Line Telecom", None),
    ("Brightwater Facilities", None),
    ("Ashgrove Managed Services", None),
    ("Tallowmere Consulting", Some("EUR")),
    ("Redfern Staffing Partners", Some("GBP")),
];

/// (code, name, kind, tower, owner)
const SERVICES: &[(&str, &str, &str, &str, &str)] = &[
    ("EMAIL", "Email & Collaboration", "technical_service", "tower-v4-end-user", "hannah.weiss"),
    ("CRM", "Customer Relationship Management", "application", "tower-v4-application", "marcus.lindqvist"),
    ("ERP", "Enterprise Resource Planning", "application", "tower-v4-application", "marcus.lindqvist"),
    ("HRIS", "HR Information System", "application", "tower-v4-application", "isabel.costa"),
    ("WEB", "E-commerce Platform", "business_service", "tower-v4-application", "chloe.martin"),
    ("DATA", "Data Platform", "technical_service", "tower-v4-platform", "lucia.fernandez"),
    ("HOST", "Compute Hosting", "technical_service", "tower-v4-compute", "priya.raman"),
    ("STOR", "Storage & Backup", "technical_service", "tower-v4-storage", "priya.raman"),
    ("NET", "Corporate Network", "technical_service", "tower-v4-network", "priya.raman"),
    ("DC", "Data Center", "technical_service", "tower-v4-data-center", "priya.raman"),
    ("EUC", "End-User Computing", "business_service", "tower-v4-end-user", "hannah.weiss"),
    ("SD", "IT Service Desk", "business_service", "tower-v4-delivery", "hannah.weiss"),
    ("SEC", "Identity & Security", "technical_service", "tower-v4-security-compliance", "samuel.adeyemi"),
    ("ITM", "IT Management", "technical_service", "tower-v4-it-management", "daniel.okafor"),
];

/// Currencies quoted against the reporting currency, with a believable
/// starting rate (per US dollar) for the random walk.
const QUOTES: &[(&str, i64)] = &[("EUR", 9_200), ("GBP", 7_900), ("USD", 10_000)];

/// The rate type the demo's monthly rates are recorded as.
pub const RATE_TYPE: &str = "average";

pub fn build(ctx: &mut Context) -> (Org, Vec<Table>) {
    let now = ctx.now;
    let mut cost_center_rows = Table::new(
        "cost_centers",
        &["id", "code", "name", "parent_id", "owner", "description", "created_at", "updated_at", "version"],
    );
    let mut cost_centers: Vec<CostCenter> = Vec::new();
    for &(code, name, parent, owner, description, services) in COST_CENTERS {
        let id = ctx.id();
        let parent_id = parent.map(|p| cost_centers.iter().find(|c| c.code == p).expect("parents come first").id.clone());
        cost_center_rows.push(row![&id, code, name, parent_id, owner, description, now, now, 1i64]);
        cost_centers.push(CostCenter { id, code, name, services });
    }

    let mut cost_type_rows = Table::new(
        "cost_types",
        &["id", "code", "name", "classification", "description", "created_at", "updated_at", "version"],
    );
    let mut cost_types = Vec::new();
    for &(code, name, capex, pool_id, default_tower_id, line_dollars, vendors) in COST_TYPES {
        let id = ctx.id();
        let classification = if capex { "capex" } else { "opex" };
        cost_type_rows.push(row![&id, code, name, classification, Option::<String>::None, now, now, 1i64]);
        cost_types.push(CostType { id, code, name, capex, pool_id, default_tower_id, line_size_cents: line_dollars * 100, vendors });
    }

    let mut vendor_rows = Table::new("vendors", &["id", "name", "created_at", "updated_at", "version"]);
    let mut vendors = Vec::new();
    for &(name, bills_in) in VENDORS {
        let id = ctx.id();
        vendor_rows.push(row![&id, name, now, now, 1i64]);
        vendors.push(Vendor { id, name, bills_in });
    }

    let mut service_rows =
        Table::new("services", &["id", "code", "name", "kind", "tower_id", "owner", "created_at", "updated_at", "version"]);
    let mut services = Vec::new();
    for &(code, name, kind, tower_id, owner) in SERVICES {
        let id = ctx.id();
        service_rows.push(row![&id, code, name, kind, tower_id, owner, now, now, 1i64]);
        services.push(Service { id, code, tower_id });
    }

    let (rates, rate_rows) = exchange_rates(ctx);
    let org = Org { cost_centers, cost_types, vendors, services, rates };
    (org, vec![rate_rows, cost_center_rows, cost_type_rows, vendor_rows, service_rows])
}

/// A random walk per quote currency over the ledger's 24 months.
fn exchange_rates(ctx: &mut Context) -> (HashMap<(NaiveDate, &'static str), i64>, Table) {
    let mut table = Table::new(
        "exchange_rates",
        &["id", "base_currency", "quote_currency", "month", "rate_type", "rate", "created_at", "updated_at", "version"],
    );
    let mut rates = HashMap::new();
    let base = ctx.currency.clone();
    for &(quote, start) in QUOTES.iter().filter(|(q, _)| *q != base) {
        let mut rate = start;
        for month in months::between(ctx.first_month, ctx.this_month) {
            rate = (rate + ctx.rng.random_range(-90..=90)).clamp(start * 85 / 100, start * 115 / 100);
            let now = ctx.now;
            table.push(row![
                ctx.id(),
                base.as_str(),
                quote,
                month.format("%Y-%m").to_string(),
                RATE_TYPE,
                Decimal::new(rate, 4),
                now,
                now,
                1i64
            ]);
            rates.insert((month, quote), rate);
        }
    }
    (rates, table)
}
