#!/usr/bin/env python3
"""Builds a bulk-import CSV file (POST /api/v1/orders/imports) from the Olist dataset
(../shared/data/olist, real anonymised orders), for the benchmark's import case.

One row per order line, header
    order_ref,customer_email,customer_name,product_name,quantity,unit_price,currency
mapped as the dataset's README says and as olist_orders.py does for single orders:
order_ref = Olist order_id, the customer derived from customer_unique_id (falling back to the
order's customer_id, then to the order id: the shared copy is partial), product_name = the
English category + the product id's first 8 characters, quantity = the lines of the order that
carry the same product, unit_price = the BRL price at a fixed 27 yen per real, whole yen.

The shared copy yields ~8,800 real orders of ~1.04 lines, so to reach --orders orders and
about --rows rows the rest is synthesised deterministically (fixed seed):
- more orders: new refs (`synth-NNNNN`), each with a real customer and a real order's lines;
- more lines per order: real products at their real prices (and real quantities) added to the
  orders, real ones included, with a skewed spread (most orders get a few, some get many;
  never more than 100 rows an order).
Every order total is kept within the Payment Service's ¥100 … ¥1,000,000 (an added line that
would pass the top is replaced by a cheaper product or its price is lowered; an order under
¥100 has its first price raised), so every order of the file is valid. The rows are shuffled
so that an order's rows are not adjacent (the importer has to group them).

Usage: olist_import_csv.py OLIST_DIR OUT.csv [--orders 10000] [--rows 30000] [--seed N]
Prints what it produced on stderr.
"""
import argparse
import csv
import os
import random
import sys

from olist_orders import customer_fields, load_real_orders

MIN_TOTAL = 100
MAX_TOTAL = 1_000_000
MAX_ROWS_PER_ORDER = 100
HEADER = ["order_ref", "customer_email", "customer_name", "product_name", "quantity", "unit_price", "currency"]


def total(lines):
    return sum(quantity * price for _, quantity, price in lines)


def spread(rng, count, extra, room):
    """`extra` added lines over `count` orders, skewed (weights from a lognormal: most
    orders get a few, some many), never more than room[i] for order i."""
    weights = [rng.lognormvariate(0, 1.0) for _ in range(count)]
    added = [0] * count
    picks = rng.choices(range(count), weights=weights, k=extra)
    overflow = 0
    for i in picks:
        if added[i] < room[i]:
            added[i] += 1
        else:
            overflow += 1
    # The few that landed on full orders go to the emptiest orders that still have room.
    order_by_fill = sorted(range(count), key=lambda i: (added[i], i))
    j = 0
    while overflow:
        i = order_by_fill[j % count]
        if added[i] < room[i]:
            added[i] += 1
            overflow -= 1
        j += 1
    return added


def add_line(rng, lines, pool):
    """A real product line not yet in the order that keeps its total within MAX_TOTAL, and
    whether its quantity or price had to be lowered for that."""
    present = {name for name, _, _ in lines}
    room = MAX_TOTAL - total(lines)
    for _ in range(20):
        name, quantity, price = rng.choice(pool)
        if name in present:
            continue
        if quantity * price <= room:
            return [name, quantity, price], False
        if price <= room:
            return [name, 1, price], True
    # Nothing affordable drawn: a product not yet in the order at a price the total allows.
    while True:
        name, _, price = rng.choice(pool)
        if name not in present:
            return [name, 1, max(0, min(price, room))], True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("olist_dir")
    parser.add_argument("out_csv")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    real = load_real_orders(args.olist_dir)
    if not real:
        sys.exit(f"no orders with items in {args.olist_dir}")
    # Lines and customers to re-use. Real orders over the limit (none in the shared copy) are
    # not used, so that everything taken from the data is payable as it is.
    real = [order for order in real if MIN_TOTAL <= total(order[2]) <= MAX_TOTAL]
    pool = [tuple(line) for _, _, lines in real for line in lines]
    customers = [customer for _, customer, _ in real]

    used_real = real[:args.orders]
    orders = [(order_id, customer, [list(line) for line in lines]) for order_id, customer, lines in used_real]
    real_lines = sum(len(lines) for _, _, lines in orders)
    for n in range(len(orders), args.orders):
        # A new ref with a real customer and a real order's lines.
        _, _, lines = rng.choice(real)
        orders.append((f"synth-{n + 1:05d}", rng.choice(customers), [list(line) for line in lines]))
    synth_order_lines = sum(len(lines) for _, _, lines in orders) - real_lines

    base_rows = real_lines + synth_order_lines
    extra = max(0, args.rows - base_rows)
    room = [MAX_ROWS_PER_ORDER - len(lines) for _, _, lines in orders]
    if extra > sum(room):
        sys.exit(f"{args.rows} rows do not fit in {args.orders} orders of at most {MAX_ROWS_PER_ORDER} rows")
    added = spread(rng, len(orders), extra, room)
    lowered = raised = 0
    for (_, _, lines), count in zip(orders, added):
        for _ in range(count):
            line, adjusted = add_line(rng, lines, pool)
            lowered += adjusted
            lines.append(line)
        if total(lines) < MIN_TOTAL:
            # Raise the first line's price until the order is payable.
            name, quantity, price = lines[0]
            lines[0] = [name, quantity, price + -(-(MIN_TOTAL - total(lines)) // quantity)]
            raised += 1
        assert MIN_TOTAL <= total(lines) <= MAX_TOTAL and len(lines) <= MAX_ROWS_PER_ORDER

    # One row per line; shuffled, then no multi-row order is left with all its rows together.
    file_rows = [(o, i) for o, (_, _, lines) in enumerate(orders) for i in range(len(lines))]
    rng.shuffle(file_rows)
    adjacent = 0
    for _ in range(10):
        positions = {}
        for at, (o, _) in enumerate(file_rows):
            positions.setdefault(o, []).append(at)
        together = [o for o, at in positions.items() if len(at) > 1 and at[-1] - at[0] == len(at) - 1]
        if not together:
            break
        for o in together:  # move its first row somewhere else at random
            at = positions[o][0]
            other = rng.randrange(len(file_rows))
            file_rows[at], file_rows[other] = file_rows[other], file_rows[at]
    else:
        adjacent = len(together)

    with open(args.out_csv, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for o, i in file_rows:
            order_ref, customer, lines = orders[o]
            email, name = customer_fields(customer)
            product_name, quantity, unit_price = lines[i]
            writer.writerow([order_ref, email, name, product_name, quantity, unit_price, "JPY"])

    totals = sorted(total(lines) for _, _, lines in orders)
    sizes = sorted(len(lines) for _, _, lines in orders)
    n_rows = len(file_rows)
    print(f"{len(orders)} orders, {n_rows} rows, {os.path.getsize(args.out_csv)} bytes written to {args.out_csv}\n"
          f"  orders: {len(used_real)} real (Olist order_id), {len(orders) - len(used_real)} synthesised "
          f"(real customers and lines, new refs)\n"
          f"  rows: {real_lines} real lines of real orders, {synth_order_lines} real lines copied into "
          f"synthesised orders, {sum(added)} real products added to orders\n"
          f"  rows per order: mean {n_rows / len(orders):.2f}, median {sizes[len(sizes) // 2]}, "
          f"max {sizes[-1]}, single-row orders {sizes.count(1)}\n"
          f"  order totals: ¥{totals[0]:,} … ¥{totals[-1]:,} (median ¥{totals[len(totals) // 2]:,}); "
          f"{lowered} added lines lowered to stay under ¥{MAX_TOTAL:,}, {raised} orders raised to ¥{MIN_TOTAL}; "
          f"multi-row orders with all rows adjacent: {adjacent}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
