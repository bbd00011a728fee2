-- The plugin against the real server, as a user would drive it; run headless by
-- tests/e2e/test_neovim_plugin_real_server.py with $CODEQUORUM_SPEC naming a JSON file:
--   { "file": the Python file to edit, "line": 1-based line of an empty function body,
--     "options": the plugin's options (cmd or address, settings, ...), "output": where to write }
-- A global insert-mode <Tab> mapping stands for nvim-cmp's. The spec opens the file, waits for
-- the server to be ready (recording the states it went through), runs :Codequorum status and
-- :checkhealth codequorum, enters insert mode at the end of that line and presses <Tab> at
-- once (no suggestion yet: the key falls through to the global mapping), presses <Tab> again
-- once the suggestion shows, asks the server for its counters, runs :Codequorum disable, and
-- writes what it saw to "output" as JSON, then quits. A failure is written there as "error".
local spec = vim.fn.json_decode(table.concat(vim.fn.readfile(vim.env.CODEQUORUM_SPEC), "\n"))
local codequorum = require("codequorum")
local client = require("codequorum.client")
local suggestion = require("codequorum.suggestion")
local uv = vim.uv or vim.loop

local TIMEOUT_MS = 180000
local results = { states = {}, fell_through = 0, messages = {} }

local function finish(err)
  results.error = err
  vim.fn.writefile({ vim.fn.json_encode(results) }, spec.output)
  vim.cmd(err and "cquit!" or "qall!")
end

-- Run `step` once `ready()` holds, polling from the event loop so that Neovim keeps handling
-- keys and server messages meanwhile.
local function once(what, ready, step)
  local deadline = uv.now() + TIMEOUT_MS
  local timer = uv.new_timer()
  timer:start(50, 50, vim.schedule_wrap(function()
    local ok, done = pcall(ready)
    if not ok or done or uv.now() > deadline then
      timer:stop()
      timer:close()
      if not ok then
        finish(what .. ": " .. tostring(done))
      elseif not done then
        finish("timed out waiting for " .. what .. " (" .. codequorum.statusline() .. ")")
      else
        local stepped, err = pcall(step)
        if not stepped then
          finish(what .. ": " .. tostring(err))
        end
      end
    end
  end))
end

local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "m", false)
end

-- The suggestion's text and the hint after it, as drawn in the buffer.
local function drawn(bufnr)
  local namespace = vim.api.nvim_create_namespace("codequorum")
  local text, hint = {}, {}
  local function add(chunks)
    for _, chunk in ipairs(chunks) do
      table.insert(chunk[2] == "CodequorumMember" and hint or text, chunk[1])
    end
  end
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, { details = true })) do
    add(mark[4].virt_text or {})
    for _, line in ipairs(mark[4].virt_lines or {}) do
      table.insert(text, "\n")
      add(line)
    end
  end
  return table.concat(text), vim.trim(table.concat(hint))
end

local function output_of(command)
  return vim.trim(vim.api.nvim_exec(command, true))
end

local function health_report()
  vim.cmd("checkhealth codequorum")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd(vim.fn.tabpagenr("$") > 1 and "tabclose" or "bdelete")
  return lines
end

local function record_states()
  vim.api.nvim_create_autocmd("User", {
    pattern = "CodequorumStatus",
    callback = function()
      local kind = codequorum.status().kind
      if results.states[#results.states] ~= kind then
        table.insert(results.states, kind)
      end
    end,
  })
end

local function start()
  vim.notify = function(message)
    table.insert(results.messages, message)
  end
  vim.keymap.set("i", "<Tab>", function()
    results.fell_through = results.fell_through + 1
  end, { desc = "stands for nvim-cmp's <Tab>" })
  record_states()
  vim.cmd("filetype on")
  codequorum.setup(vim.tbl_extend("force", { native = false }, spec.options))
  vim.cmd("edit " .. vim.fn.fnameescape(spec.file))
  local bufnr = vim.api.nvim_get_current_buf()
  local body = vim.api.nvim_buf_get_lines(bufnr, spec.line - 1, spec.line, true)[1]

  once("the server to be ready", function()
    local lsp_client = client.get()
    return lsp_client and lsp_client.initialized and codequorum.status().kind == "ready"
      and vim.tbl_contains(results.states, "loading")
  end, function()
    results.status = output_of("Codequorum status")
    results.health = health_report()
    vim.api.nvim_win_set_cursor(0, { spec.line, 0 })
    press("A<Tab>") -- before any suggestion: <Tab> is the global mapping's
    once("a suggestion", function()
      return suggestion.visible(bufnr)
    end, function()
      results.shown, results.hint = drawn(bufnr)
      results.before_accept = vim.api.nvim_buf_get_lines(bufnr, spec.line - 1, spec.line, true)[1]
      press("<Tab>")
      once("the suggestion to be inserted", function()
        return vim.api.nvim_buf_get_lines(bufnr, spec.line - 1, spec.line, true)[1] ~= body
      end, function()
        results.buffer = vim.api.nvim_buf_get_lines(bufnr, 0, -1, true)
        client.execute(client.get(), { command = "codequorum.stats" }, bufnr, function(err, stats)
          results.stats = stats
          if err then
            return finish(err.message)
          end
          vim.cmd("Codequorum disable")
          once("the client to stop", function()
            return #(vim.lsp.get_clients or vim.lsp.get_active_clients)() == 0
          end, function()
            results.after_disable = output_of("Codequorum status")
            finish(nil)
          end)
        end)
      end)
    end)
  end)
end

local started, err = pcall(start)
if not started then
  finish("starting: " .. tostring(err))
end
