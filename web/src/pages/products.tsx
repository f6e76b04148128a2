// Staff: the product list (by id, paged), adding a product, renaming or repricing one.
import { useState } from 'hono/jsx/dom';
import { api } from '../lib/api';
import { money } from '../lib/format';
import { useAction, useAsync } from '../lib/hooks';
import { setQuery, type Route } from '../lib/router';
import type { Page, Product } from '../lib/types';
import { ErrorNotice, Field, formValues, ListState, Modal, Pager, PageTitle } from '../components/ui';

const PAGE_SIZE = 20;

export function ProductsPage({ route }: { route: Route }) {
  const page = Number(route.query.get('page') ?? 1);
  const list = useAsync(() => api<Page<Product>>('/api/products', { query: { page, page_size: PAGE_SIZE } }), [page]);
  const [editing, setEditing] = useState<Product | null>(null);
  return (
    <section>
      <PageTitle>Products</PageTitle>
      <details class="card">
        <summary>Add a product</summary>
        <ProductForm onSaved={list.reload} />
      </details>
      <ListState
        list={list}
        loading="Loading products…"
        empty="No products yet."
        render={(rows, busy) => (
          <div class="table-wrap">
            <table aria-busy={busy}>
              <caption class="visually-hidden">Products by id</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Id
                  </th>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">
                    Price
                  </th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.id}>
                    <td class="num">{p.id}</td>
                    <td>{p.name}</td>
                    <td class="num">{money(p.price, p.currency)}</td>
                    <td>
                      <button type="button" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
                        Edit
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      />
      {list.data && (
        <Pager page={page} pageSize={PAGE_SIZE} count={list.data.count} hasNext={!!list.data.next} onPage={(p) => setQuery({ page: p })} />
      )}
      {editing && (
        <Modal labelledBy="edit-product" onClose={() => setEditing(null)}>
          <h2 id="edit-product">Edit {editing.name}</h2>
          <p class="hint">Recorded orders keep the name and price they were made with.</p>
          <ProductForm
            product={editing}
            onSaved={() => {
              setEditing(null);
              list.reload();
            }}
          />
        </Modal>
      )}
    </section>
  );
}

function ProductForm({ product, onSaved }: { product?: Product; onSaved: () => void }) {
  const { busy, error, run } = useAction();
  const submit = (e: Event) => {
    const form = e.target as HTMLFormElement;
    const v = formValues(e);
    const body = { name: v.name?.trim(), price: Number(v.price) };
    void run(async () => {
      await api(product ? `/api/products/${product.id}` : '/api/products', { method: product ? 'PATCH' : 'POST', body });
      if (!product) form.reset();
      onSaved();
    });
  };
  return (
    <form onSubmit={submit} class="inline-form">
      <Field label="Name" name="name" value={product?.name} required maxlength={200} />
      <Field label="Price" name="price" type="number" min={0} value={product?.price} required inputmode="numeric" />
      <ErrorNotice error={error} />
      <button type="submit" class="primary" disabled={busy}>
        {product ? 'Save' : 'Add product'}
      </button>
    </form>
  );
}
