#!/usr/bin/env python3
"""Turns the Olist dataset (../shared/data/olist, real anonymised orders) into order-creation
request bodies, one JSON object per line, for the benchmark's load generator (oha -Z).

One order per Olist order that has items: the customer derived from customer_unique_id, one item per distinct
product (quantity = how many lines of the order carry it), the category in English as the
product name, and the BRL price converted to whole yen at a fixed rate. Usage:
    olist_orders.py DATA_DIR OUT.jsonl [MAX_ORDERS]
"""
import csv
import json
import sys
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal

YEN_PER_BRL = Decimal("27")  # a fixed, documented rate: the benchmark needs shapes, not FX


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def load_real_orders(data_dir):
    """Olist orders that have items, in file order: (order_id, customer, [line]), where a line
    is [product_name, quantity, unit_price] (one per distinct product). Shared with
    olist_import_csv.py."""
    english = {r["product_category_name"]: r["product_category_name_english"]
               for r in rows(f"{data_dir}/product_category_name_translation.csv")}
    category = {r["product_id"]: english.get(r["product_category_name"], r["product_category_name"] or "item")
                for r in rows(f"{data_dir}/olist_products_dataset.csv")}
    customer_of_order = {r["order_id"]: r["customer_id"]
                         for r in rows(f"{data_dir}/olist_orders_dataset.csv") if r["order_id"]}
    unique_customer = {r["customer_id"]: r["customer_unique_id"]
                       for r in rows(f"{data_dir}/olistcustomerdataset.csv") if r["customer_id"]}

    orders = OrderedDict()
    for line in rows(f"{data_dir}/olist_order_items_dataset.csv"):
        if not line["order_id"] or not line["price"]:
            continue  # the file has blank rows
        items = orders.setdefault(line["order_id"], OrderedDict())
        product = line["product_id"]
        if product in items:
            items[product][1] += 1
        else:
            yen = (Decimal(line["price"]) * YEN_PER_BRL).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
            items[product] = [f"{category.get(product, 'item')} {product[:8]}", 1, int(yen)]

    real = []
    for order_id, items in orders.items():
        # The shared copy of the dataset is partial (its files overlap little), so a customer
        # falls back to the order's customer_id, then to the order id itself.
        customer_id = customer_of_order.get(order_id)
        customer = unique_customer.get(customer_id) or customer_id or order_id
        real.append((order_id, customer, [list(item) for item in items.values()]))
    return real


def customer_fields(customer):
    """The e-mail address and name a customer id stands for."""
    return f"customer-{customer[:12]}@example.com", f"Customer {customer[:6]}"


def main(data_dir, out_path, max_orders):
    written = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for _, customer, lines in load_real_orders(data_dir)[:max_orders]:
            email, name = customer_fields(customer)
            items = [{"product_name": product, "quantity": quantity, "unit_price": price}
                     for product, quantity, price in lines]
            body = {"customer_email": email, "customer_name": name, "items": items, "currency": "JPY"}
            out.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    print(f"{written} orders written to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10**9)
